import { test, expect } from '@playwright/test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unreapedQemus } from '../../src/cli/doctor.js';

// A /proc of our own making: zombies can't be made on purpose where PID 1 reaps them.
let proc: string;
test.beforeEach(async () => {
  proc = await mkdtemp(join(tmpdir(), 'dt-proc-'));
});
test.afterEach(async () => {
  await rm(proc, { recursive: true, force: true });
});

async function processEntry(pid: number, comm: string, state: string, ppid: number): Promise<void> {
  await mkdir(join(proc, String(pid)));
  await writeFile(join(proc, String(pid), 'stat'), `${pid} (${comm}) ${state} ${ppid} ${pid} ${pid} 0 -1 4194560 0 0\n`);
}

test('counts only exited QEMUs left to PID 1: not running ones, not other zombies, not zombies with a parent that will reap them', async () => {
  await processEntry(10, 'qemu-system-x86', 'Z', 1);
  await processEntry(11, 'qemu-system-x86', 'Z', 1);
  await processEntry(12, 'qemu-system-x86', 'S', 1);
  await processEntry(13, 'qemu-system-x86', 'Z', 4242);
  await processEntry(14, 'sleep', 'Z', 1);
  // A comm with a space and a parenthesis is read up to the last ')'.
  await processEntry(15, 'qemu-system-x) Z 1', 'Z', 1);
  await mkdir(join(proc, 'self'));
  expect(await unreapedQemus(proc)).toBe(3);
});

test('a missing or unreadable /proc counts none', async () => {
  expect(await unreapedQemus(join(proc, 'missing'))).toBe(0);
  await mkdir(join(proc, '99'));
  expect(await unreapedQemus(proc)).toBe(0);
});
