import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { join } from 'node:path';
import { startDemo } from '../../src/index.js';
import { domains, runFiles } from './support/host.js';

test.describe.configure({ timeout: 6 * 60_000 });

const script = join(import.meta.dirname, 'support', 'boot-tiny.ts');
const IN_VM_BODY = 'boot-tiny: in the VM body';

/** Starts a run in its own process and waits until its VM is defined (mid-boot). */
async function startRun(name: string, outDir: string, start: 'warm' | 'cold' = 'warm') {
  const child = execa(process.execPath, ['--import', 'tsx', script, name], {
    reject: false,
    all: true,
    env: { OUT_DIR: outDir, TEST_PARALLEL_INDEX: '', START: start },
  });
  // VM names end in a random id: find this run's by its prefix.
  const prefix = `demo-${name}-`;
  for (let i = 0; i < 600; i++) {
    const vm = (await domains()).find((d) => d.startsWith(prefix));
    if (vm) return { child, vm };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the run never defined ${prefix}*:\n${(await child).all}`);
}

// Sent as soon as the domain is defined (the restore or the start still to come), or 200 ms later (a restore under way).
const interruptions = [
  { start: 'warm', delayMs: 0 },
  { start: 'warm', delayMs: 200 },
  { start: 'cold', delayMs: 0 },
] as const;

for (const { start, delayMs } of interruptions) {
  test(`Ctrl-C (SIGINT) mid-boot removes the VM and its overlay (${start} start, ${delayMs} ms after define)`, async ({}, testInfo) => {
    const { child, vm } = await startRun(`interrupted-${start}`, testInfo.outputPath('v'), start);
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGINT');
    const result = await child;
    expect(result.all).toContain('signal received');
    // The script's own line, printed once the VM is ready: the serial log tail of a report may hold the guest's DEMOTOOL-READY.
    expect(result.all).not.toContain(IN_VM_BODY);
    // Whatever step the signal cut short, the run reports an interruption, not a broken boot.
    expect(result.all).not.toContain('boot failed');
    expect(await domains(), result.all).not.toContain(vm);
    expect(runFiles(vm), result.all).toEqual([]);
  });
}

test('a run killed with SIGKILL mid-boot is cleaned up when the next run starts', async ({}, testInfo) => {
  const { child, vm } = await startRun('killed', testInfo.outputPath('v'));
  child.kill('SIGKILL');
  await child;
  // Nothing could clean up: the VM is still there...
  expect(await domains()).toContain(vm);
  // ...until the next run starts.
  await startDemo('next-run', { outputDir: testInfo.outputPath('v') }, (demo) =>
    demo.vm('tiny', async () => {
      expect(await domains()).not.toContain(vm);
      expect(runFiles(vm)).toEqual([]);
    }),
  );
});
