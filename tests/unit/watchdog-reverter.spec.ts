import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import type { Domain } from '../../src/libvirt/index.js';
import { createLogger } from '../../src/log.js';
import { isRunning } from '../../src/process-identity.js';
import { RevertFailure } from '../../src/watchdog/errors.js';
import { Reverter, type RevertMethodOption } from '../../src/watchdog/reverter.js';

test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

const TIMEOUTS = { probeMs: 200, revertMs: 1_000, killMs: 2_000 };

interface Script {
  /** What `info status` does: answer, or fail with this message. */
  monitor: 'running' | Error;
  loadvmError?: Error;
  /** The errors of the first snapshot-reverts, in turn; later ones succeed. */
  revertErrors?: Error[];
  /** The state after a failed snapshot-revert. */
  stateAfterFailure?: string;
  qemuPid?: number;
}

/** A libvirt domain that plays `script` and writes down each call. */
function scriptedDomain(script: Script): { domain: Domain; calls: string[] } {
  const calls: string[] = [];
  const revertErrors = [...(script.revertErrors ?? [])];
  let state = 'running';
  const domain = {
    hmp: async (command: string) => {
      calls.push(`hmp ${command}`);
      if (command === 'info status') {
        if (script.monitor instanceof Error) throw script.monitor;
        return 'VM status: running';
      }
      if (script.loadvmError) throw script.loadvmError;
      return '';
    },
    stateWithReason: async () => ({ state, reason: '' }),
    qemuPid: () => script.qemuPid,
    powerOff: async () => {
      calls.push(`powerOff (QEMU ${script.qemuPid && isRunning(script.qemuPid) ? 'still running' : 'gone'})`);
      state = 'shut off';
    },
    revert: async () => {
      calls.push('snapshot-revert');
      const error = revertErrors.shift();
      if (error) {
        state = script.stateAfterFailure ?? state;
        throw error;
      }
      state = 'running';
    },
  };
  return { domain: domain as unknown as Domain, calls };
}

function reverter(domain: Domain, preferred: RevertMethodOption = 'in-place'): Reverter {
  return new Reverter(domain, () => 'ready', preferred, TIMEOUTS, createLogger('test'));
}

const exitedAtStart = () => new Error('virsh snapshot-revert failed: error: internal error: process exited while connecting to monitor');

test('a QEMU whose monitor does not answer is killed, gone before the restart, and a start that fails once is tried again', async () => {
  const qemu = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const { domain, calls } = scriptedDomain({
      monitor: new Error('timed out after 200 ms'),
      revertErrors: [exitedAtStart()],
      stateAfterFailure: 'shut off',
      qemuPid: qemu.pid,
    });
    expect(await reverter(domain).revert()).toBe('restart');
    expect(calls).toEqual(['hmp info status', 'powerOff (QEMU gone)', 'snapshot-revert', 'snapshot-revert']);
  } finally {
    qemu.kill('SIGKILL');
  }
});

test("a restart that fails twice fails as a restart, with libvirt's error", async () => {
  const { domain, calls } = scriptedDomain({
    monitor: new Error('timed out after 200 ms'),
    revertErrors: [exitedAtStart(), exitedAtStart()],
    stateAfterFailure: 'shut off',
  });
  const error = await reverter(domain)
    .revert()
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RevertFailure);
  expect((error as RevertFailure).method).toBe('restart');
  expect((error as RevertFailure).code).toBe('EREVERT');
  expect((error as RevertFailure).message).toContain('process exited while connecting to monitor');
  expect(calls.filter((c) => c === 'snapshot-revert')).toHaveLength(2);
});

test('a failed revert that left the VM running is not tried again', async () => {
  const { domain, calls } = scriptedDomain({ monitor: 'running', revertErrors: [new Error('timed out after 1000 ms')], stateAfterFailure: 'running' });
  const error = await reverter(domain)
    .restart()
    .catch((e: unknown) => e);
  expect((error as RevertFailure).method).toBe('restart');
  expect(calls).toEqual(['powerOff (QEMU gone)', 'snapshot-revert']);
});

test('in-place first; when loadvm and then snapshot-revert fail, the failure names snapshot-revert', async () => {
  const ok = scriptedDomain({ monitor: 'running' });
  expect(await reverter(ok.domain).revert()).toBe('in-place');
  expect(ok.calls).toEqual(['hmp info status', 'hmp loadvm ready']);

  const failing = scriptedDomain({ monitor: 'running', loadvmError: new Error('loadvm failed'), revertErrors: [new Error('no space left')] });
  const error = await reverter(failing.domain)
    .revert()
    .catch((e: unknown) => e);
  expect((error as RevertFailure).method).toBe('snapshot-revert');
  expect(failing.calls).toEqual(['hmp info status', 'hmp loadvm ready', 'snapshot-revert']);
});

test("revertMethod 'snapshot-revert' never loads in place", async () => {
  const { domain, calls } = scriptedDomain({ monitor: 'running' });
  expect(await reverter(domain, 'snapshot-revert').revert()).toBe('snapshot-revert');
  expect(calls).toEqual(['snapshot-revert']);
});
