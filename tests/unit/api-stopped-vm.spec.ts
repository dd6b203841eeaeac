/**
 * failWhenStopped's decisions, with a domain whose states are scripted (the e2e vm-stopped
 * spec powers off and panics real guests): which states cut a wait short, which don't, and
 * that nothing is asked while a watchdog or a revert looks after the VM.
 */
import { test, expect } from '@playwright/test';
import { setTimeout as sleep } from 'node:timers/promises';
import { explainTimeout, failWhenStopped } from '../../src/api/stopped-vm.js';
import { TimeoutError } from '../../src/errors.js';
import type { Domain } from '../../src/libvirt/index.js';
import { scriptedDomain } from './support/fake-domain.js';

/** A VM whose domain answers `states` in turn (the last one from then on), counting the questions. */
function scripted(...states: [string, string][]) {
  const { domain, asked } = scriptedDomain(...states);
  return { vm: { name: 'demo-x-aaaaaa', domain, overlay: '/cache/demotool/run/demo-x-aaaaaa.qcow2' }, asked };
}

const never = () => new Promise<never>(() => undefined);

/** Looks ten times as often as a real wait does, so the tests take a tenth of the time. */
const LOOK_MS = 200;

test('a VM paused on a disk error cuts the wait short with EVMPAUSEDIO, naming the wait and where to free space', async () => {
  const { vm } = scripted(['running', 'unpaused'], ['paused', 'ioerror']);
  const started = Date.now();
  let given: AbortSignal | undefined;
  const error = await failWhenStopped(
    vm,
    'wait for serial /DONE/',
    () => false,
    (signal) => ((given = signal), never()),
    LOOK_MS,
  ).catch((e) => e);
  // The wait cut short is told to end: none of its timers outlive the call.
  expect(given?.aborted).toBe(true);
  expect(error.code).toBe('EVMPAUSEDIO');
  expect(error.message.split('\n')[0]).toBe('VM demo-x-aaaaaa is paused: QEMU stopped it after a disk I/O error (is the disk full?)');
  expect(error.hint).toBe('free space where the overlay lives (/cache/demotool/run); the wait it cut short: wait for serial /DONE/');
  // The second look, one interval after the first.
  expect(Date.now() - started).toBeGreaterThanOrEqual(2 * LOOK_MS - 10);
});

test('shut off, crashed and a panic pause cut it short with EVMNOTRUNNING', async () => {
  for (const [state, reason] of [
    ['shut off', 'shutdown'],
    ['crashed', 'panicked'],
    ['paused', 'panicked'],
  ] as [string, string][]) {
    const { vm } = scripted([state, reason]);
    const error = await failWhenStopped(vm, 'exec "true"', () => false, never, LOOK_MS).catch((e) => e);
    expect(error.code).toBe('EVMNOTRUNNING');
    expect(error.message.split('\n')[0]).toBe(`VM demo-x-aaaaaa is ${state} (${reason}), so the wait could not succeed`);
    expect(error.hint).toBe('the wait it cut short: exec "true"');
  }
});

test('a domain removed under the wait cuts it short; libvirt out of reach does not', async () => {
  const gone = {
    name: 'demo-x-aaaaaa',
    overlay: '/run/x.qcow2',
    domain: { stateWithReason: () => Promise.reject(new Error("virsh domstate failed: error: failed to get domain 'demo-x-aaaaaa'")) } as unknown as Domain,
  };
  const error = await failWhenStopped(gone, 'wait for text x', () => false, never, LOOK_MS).catch((e) => e);
  expect(error.code).toBe('EVMNOTRUNNING');
  expect(error.message.split('\n')[0]).toBe('VM demo-x-aaaaaa is gone (its domain was removed), so the wait could not succeed');

  const unreachable = { ...gone, domain: { stateWithReason: () => Promise.reject(new Error('failed to connect to the hypervisor')) } as unknown as Domain };
  expect(
    await failWhenStopped(
      unreachable,
      'w',
      () => false,
      () => sleep(450).then(() => 'done'),
      LOOK_MS,
    ),
  ).toBe('done');
});

test('a pause that may end (a snapshot, virsh suspend) and a running VM let the wait finish', async () => {
  const { vm, asked } = scripted(['paused', 'user'], ['paused', 'snapshot'], ['running', 'booted']);
  const result = await failWhenStopped(
    vm,
    'wait for text x',
    () => false,
    () => sleep(700).then(() => 'shown'),
    LOOK_MS,
  );
  expect(result).toBe('shown');
  // It went on looking after each pause: the third look found it running.
  expect(asked.count).toBeGreaterThanOrEqual(3);
});

test('while a watchdog or a revert looks after the VM, its state is not asked and the wait goes on', async () => {
  const { vm, asked } = scripted(['shut off', 'crashed']);
  const result = await failWhenStopped(
    vm,
    'wait for screen x',
    () => true,
    () => sleep(500).then(() => 'back'),
    LOOK_MS,
  );
  expect(result).toBe('back');
  expect(asked.count).toBe(0);
});

test('a wait done within one interval never asks; its own error passes unchanged', async () => {
  const { vm, asked } = scripted(['shut off', 'shutdown']);
  expect(
    await failWhenStopped(
      vm,
      'w',
      () => false,
      async () => 42,
      LOOK_MS,
    ),
  ).toBe(42);
  const own = new Error('not found');
  await expect(
    failWhenStopped(
      vm,
      'w',
      () => false,
      () => Promise.reject(own),
      LOOK_MS,
    ),
  ).rejects.toBe(own);
  await sleep(250);
  expect(asked.count).toBe(0);
});

test('a timeout on a stopped VM is explained, with the timeout as its cause; on a running one it stays a timeout', async () => {
  const timeout = new TimeoutError('serial output matching /DONE/', 20_000);
  const stopped = await explainTimeout(timeout, scripted(['paused', 'ioerror']).vm).catch((e) => e);
  expect(stopped).toMatchObject({ code: 'EVMPAUSEDIO', cause: timeout });
  expect(stopped.hint).toContain('the wait that timed out: serial output matching /DONE/ did not happen within 20000 ms');
  await expect(explainTimeout(timeout, scripted(['running', 'unpaused']).vm)).rejects.toBe(timeout);
});
