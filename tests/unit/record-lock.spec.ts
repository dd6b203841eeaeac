/** One writer per video file: the lock next to the output, across recorders and processes. */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UsageError } from '../../src/errors.js';
import { OutputLockedError } from '../../src/record/index.js';
import { lockOutput, lockPathOf } from '../../src/record/output-lock.js';

async function deadPid(): Promise<number> {
  const r = await execa('sh', ['-c', 'echo $$']);
  return Number(r.stdout.trim());
}

test('a second lock on the same file in this process is refused, naming this process; released, it can be taken again', async ({}, info) => {
  const dir = info.outputPath('v');
  await mkdir(dir, { recursive: true });
  const out = `${dir}/a.mp4`;
  const first = await lockOutput(out);
  expect(first.path).toBe(`${dir}/.a.mp4.lock`);
  const err = await lockOutput(out).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OutputLockedError);
  const e = err as OutputLockedError;
  expect(e.code).toBe('ERECORD_OUTPUT_LOCKED');
  expect(e.ownerPid).toBe(process.pid);
  expect(e.message).toContain(out);
  expect(e.message).toContain('this process');
  expect(e.hint).toContain(first.path);
  // Another file in the same directory is free.
  const other = await lockOutput(`${dir}/b.mp4`);
  await other.release();
  await first.release();
  expect(existsSync(first.path)).toBe(false);
  const again = await lockOutput(out);
  await again.release();
});

test('a lock left by a dead process (or a reused pid) is taken over; a live one or one from another host is not', async ({}, info) => {
  const dir = info.outputPath('v');
  await mkdir(dir, { recursive: true });
  const out = `${dir}/a.mp4`;
  const lock = lockPathOf(out);

  await writeFile(lock, JSON.stringify({ pid: await deadPid(), host: hostname(), token: 'dead' }));
  const taken = await lockOutput(out);
  expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(process.pid);
  await taken.release();

  // Our own pid, but another process start time: the pid was reused, the owner is gone.
  await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), start: '1', token: 'reused' }));
  const reused = await lockOutput(out);
  expect(JSON.parse(readFileSync(lock, 'utf8')).token).not.toBe('reused');
  await reused.release();

  // A live process of this host (pid 1 is always alive).
  await writeFile(lock, JSON.stringify({ pid: 1, host: hostname(), token: 'live' }));
  const live = await lockOutput(out).catch((e: unknown) => e);
  expect(live).toBeInstanceOf(OutputLockedError);
  expect((live as OutputLockedError).ownerPid).toBe(1);

  // Another host: cannot tell, so it is held.
  await writeFile(lock, JSON.stringify({ pid: await deadPid(), host: 'elsewhere.example', token: 'remote' }));
  const remote = await lockOutput(out).catch((e: unknown) => e);
  expect(remote).toBeInstanceOf(OutputLockedError);
  expect((remote as Error).message).toContain('elsewhere.example');
  // The refused attempts left the holder's lock alone.
  expect(JSON.parse(await readFile(lock, 'utf8')).token).toBe('remote');
});

test('release removes only its own lock', async ({}, info) => {
  const dir = info.outputPath('v');
  await mkdir(dir, { recursive: true });
  const out = `${dir}/a.mp4`;
  const mine = await lockOutput(out);
  // Someone judged it stale and took it over (cannot happen while we live, but release must not break theirs).
  await writeFile(mine.path, JSON.stringify({ pid: 1, host: hostname(), token: 'theirs' }));
  await mine.release();
  expect(JSON.parse(await readFile(mine.path, 'utf8')).token).toBe('theirs');
});

test('a name the file system refuses is a clear UsageError', async ({}, info) => {
  const dir = info.outputPath('v');
  await mkdir(dir, { recursive: true });
  const err = await lockOutput(`${dir}/${'x'.repeat(300)}.mp4`).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(/does not accept the file name .*ENAMETOOLONG/);
});
