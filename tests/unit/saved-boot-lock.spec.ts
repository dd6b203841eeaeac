/**
 * The saved boot's lock: one holder at a time; a lock left by a run that is gone is taken over
 * at once; a lock whose holder lives is waited for, never broken.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os, { hostname } from 'node:os';
import path from 'node:path';
import { withDirectoryLock } from '../../src/api/saved-boot-lock.js';
import { thisProcess } from '../../src/libvirt/owner.js';
import type { Logger } from '../../src/log.js';

let tmp: string;
let dir: string;
const logged: string[] = [];
const log = { info: (msg: string) => logged.push(msg), warn: () => undefined, debug: () => undefined, error: () => undefined } as unknown as Logger;

test.beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-lock-'));
  dir = path.join(tmp, 'aaaaaaaaaaaaaaaaaaaa');
  await fs.mkdir(dir);
  logged.length = 0;
});
test.afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** What a run killed while holding the lock leaves: the lock directory and its holder record. */
async function leftBy(holder: object): Promise<void> {
  await fs.mkdir(`${dir}.lock`);
  await fs.writeFile(`${dir}.lock.holder`, JSON.stringify(holder));
}

test('a lock left by a run that is gone is taken over at once, and nothing of it stays', async () => {
  const gone = execa(process.execPath, ['-e', '']);
  await gone;
  await leftBy({ pid: gone.pid, hostname: hostname() });
  const started = Date.now();
  let held = false;
  await withDirectoryLock(dir, log, async () => {
    held = true;
    // The holder record names this process while it holds the lock.
    expect(JSON.parse(await fs.readFile(`${dir}.lock.holder`, 'utf8'))).toMatchObject({ pid: process.pid });
  });
  expect(held).toBe(true);
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(logged).toEqual(["took over a saved boot's lock from a run that is gone"]);
  expect((await fs.readdir(tmp)).sort()).toEqual(['aaaaaaaaaaaaaaaaaaaa']);
});

test('a lock whose holder is alive is waited for, and its record is left as it was', async () => {
  const record = JSON.stringify(thisProcess());
  await leftBy(thisProcess());
  let held = false;
  const waiting = withDirectoryLock(dir, log, async () => {
    held = true;
  });
  await new Promise((r) => setTimeout(r, 1_500));
  expect(held).toBe(false);
  // The waiter moves the record aside for a moment each time it checks its holder, and puts it back.
  await expect.poll(() => fs.readFile(`${dir}.lock.holder`, 'utf8').catch(() => undefined), { timeout: 1_000, intervals: [5] }).toBe(record);
  // The holder lets go (its record first, then the lock): the waiter goes on.
  await fs.rm(`${dir}.lock.holder`);
  await fs.rm(`${dir}.lock`, { recursive: true });
  await waiting;
  expect(held).toBe(true);
  expect(logged).toEqual([]);
});

test('two holders in one process take turns', async () => {
  const events: string[] = [];
  const hold = (name: string) =>
    withDirectoryLock(dir, log, async () => {
      events.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 300));
      events.push(`${name} out`);
    });
  await Promise.all([hold('a'), hold('b')]);
  expect(events).toHaveLength(4);
  expect(events[0]!.split(' ')[0]).toBe(events[1]!.split(' ')[0]);
  expect(events[1]).toMatch(/out$/);
  expect(events[2]!.split(' ')[0]).toBe(events[3]!.split(' ')[0]);
});
