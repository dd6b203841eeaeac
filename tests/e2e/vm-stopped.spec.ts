import { test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from '../../fixtures/index.js';
import { VmError, backendsOf, startDemo, type Vm } from '../../src/index.js';
import { domains } from './support/host.js';

// A wait on a VM that stopped for good (powered off, panicked) fails as soon as that is seen,
// long before its timeout, and says why; under a watchdog, which reverts such faults, it waits.
test.describe.configure({ timeout: 4 * 60_000 });

const LONG = 120_000;

/** Starts a wait that can't succeed, stops the guest with `line` (as root on tiny's tty1), and returns the wait's error and how long it took. */
async function stopDuringWait(vm: Vm, line: string): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const waiting = vm.waitForSerial('NEVER-PRINTED', { timeout: LONG }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await vm.keyboard.type(`${line}\n`, { delay: 0 });
  return { error: await waiting, ms: Date.now() - started };
}

test('a guest that powers off: the wait fails at once with EVMNOTRUNNING, naming the wait', async ({}, info) => {
  await startDemo('stopped-poweroff', { outputDir: info.outputPath('out') }, (demo) =>
    demo.vm('tiny', async (vm) => {
      const { error, ms } = await stopDuringWait(vm, 'echo o > /proc/sysrq-trigger');
      expect(error).toBeInstanceOf(VmError);
      expect(error).toMatchObject({ code: 'EVMNOTRUNNING', message: expect.stringMatching(new RegExp(`^VM ${vm.name} is shut off \\(shutdown\\)`)) });
      expect((error as VmError).hint).toBe('the wait it cut short: wait for serial NEVER-PRINTED');
      // The report points at the line that waited (stopDuringWait's), above demotool's own frames.
      const frame = (error as Error).stack!.split('\n').find((l) => l.startsWith('    at '));
      const [, file, line] = /^ {4}at (\/\S+):(\d+):\d+$/.exec(frame ?? '') ?? [];
      expect(file).toBe(fileURLToPath(import.meta.url));
      expect(readFileSync(file!, 'utf8').split('\n')[Number(line) - 1]).toContain("vm.waitForSerial('NEVER-PRINTED'");
      // Seen within a few looks at the state (every 2 s), not at the 120 s timeout.
      expect(ms).toBeLessThan(30_000);
    }),
  );
});

test('the screen matchers too: expect(vm).toShowText on a VM that powered off fails at once, naming the assertion', async ({}, info) => {
  await startDemo('stopped-matcher', { outputDir: info.outputPath('out') }, (demo) =>
    demo.vm('tiny', async (vm) => {
      await vm.keyboard.type('echo o > /proc/sysrq-trigger\n', { delay: 0 });
      const started = Date.now();
      const error = await expect(vm)
        .toShowText('NEVER-ON-SCREEN', { timeout: LONG })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({ code: 'EVMNOTRUNNING' });
      expect((error as VmError).hint).toBe('the wait it cut short: toShowText NEVER-ON-SCREEN');
      expect(Date.now() - started).toBeLessThan(30_000);
    }),
  );
});

test('a kernel panic: the wait fails at once with EVMNOTRUNNING (crashed or paused, panicked)', async ({}, info) => {
  await startDemo('stopped-panic', { outputDir: info.outputPath('out') }, (demo) =>
    demo.vm('tiny', async (vm) => {
      const { error, ms } = await stopDuringWait(vm, 'echo c > /proc/sysrq-trigger');
      expect(error).toMatchObject({ code: 'EVMNOTRUNNING', message: expect.stringMatching(/ is (crashed|paused|shut off) \((panicked|crashed)\)/) });
      expect(ms).toBeLessThan(30_000);
    }),
  );
});

test('a VM removed under the wait (its domain destroyed and undefined): the wait fails at once; close() still succeeds', async ({}, info) => {
  await startDemo('stopped-removed', { outputDir: info.outputPath('out') }, (demo) =>
    demo.vm('tiny', async (vm) => {
      const started = Date.now();
      const waiting = vm.waitForSerial('NEVER-PRINTED', { timeout: LONG }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await backendsOf(vm).domain.remove();
      expect(await waiting).toMatchObject({ code: 'EVMNOTRUNNING', message: expect.stringContaining(`VM ${vm.name} is gone (its domain was removed)`) });
      expect(Date.now() - started).toBeLessThan(30_000);
      await vm.close();
      expect(await domains()).not.toContain(vm.name);
    }),
  );
});

test('under a watchdog that recovers the VM the wait goes on; with its auto-revert off it fails at once', async ({}, info) => {
  await startDemo('stopped-watched', { outputDir: info.outputPath('out') }, (demo) =>
    demo.vm('tiny', async (vm) => {
      await using watchdog = await vm.watchdog({ heartbeatTimeout: 0 });
      // The panic is reverted within seconds: the wait runs to its timeout, the VM running again.
      const started = Date.now();
      const waiting = vm.waitForSerial('NEVER-PRINTED', { timeout: 20_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await vm.keyboard.type('echo c > /proc/sysrq-trigger\n', { delay: 0 });
      expect(await waiting).toMatchObject({ code: 'ETIMEOUT' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(20_000);
      expect(watchdog.reverts.map((r) => r.reason)).toContain('guest-panic');

      // Nobody brings it back now: the wait is cut short.
      watchdog.setAutoRevert(false);
      const { error } = await stopDuringWait(vm, 'echo c > /proc/sysrq-trigger');
      expect(error).toMatchObject({ code: 'EVMNOTRUNNING' });
    }),
  );
});
