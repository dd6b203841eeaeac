/**
 * Output paths that can't collide: sections whose names fold to one file are refused, a
 * second writer to a file another recorder holds (this process or another) is refused,
 * and non-Latin section names get files of their own.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/errors.js';
import { OutputLockedError, probeVideo, recordSection, Recorder } from '../../src/record/index.js';
import { alive, ffmpegChildren, sleep, sleepUntil } from './record-helpers.js';
import { SyntheticSource } from './record-synthetic.js';

test.afterEach(async () => {
  expect(await ffmpegChildren()).toEqual([]);
});

const child = fileURLToPath(new URL('./record-child.ts', import.meta.url));

async function section(dir: string, title: string, phase: number, ms = 1000) {
  const src = new SyntheticSource(160, 100);
  src.setPhase(phase);
  return recordSection(src, dir, title, () => sleepUntil(src.firstFrameAt!, ms));
}

test('two section names that fold to one file: the second is refused, the first file is untouched', async ({}, info) => {
  const dir = info.outputPath('demo');
  const first = await section(dir, 'A B', 1);
  expect(first.path).toBe(`${dir}/a-b.mp4`);
  const before = await stat(first.path);
  let ran = false;
  for (const other of ['a-b', 'A  B', 'a b', 'A/B!']) {
    const err = await recordSection(new SyntheticSource(160, 100), dir, other, async () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(err, other).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('"A B"');
    expect((err as Error).message).toContain(JSON.stringify(other));
    expect((err as Error).message).toContain(first.path);
  }
  expect(ran).toBe(false);
  const after = await stat(first.path);
  expect(after.mtimeMs).toBe(before.mtimeMs);
  expect(after.size).toBe(before.size);
  // The same section again is a re-recording of it, as before.
  const again = await section(dir, 'A B', 2);
  expect(again.path).toBe(first.path);
});

test('non-Latin section names each get their own file (they all became section.mp4)', async ({}, info) => {
  const dir = info.outputPath('demo');
  const a = await section(dir, '日本語', 1);
  const b = await section(dir, 'Русский', 2);
  const c = await section(dir, 'العربية', 3);
  expect(a.path).toBe(`${dir}/日本語.mp4`);
  expect(b.path).toBe(`${dir}/русский.mp4`);
  expect(c.path).toBe(`${dir}/العربية.mp4`);
  expect(a.section).toBe('日本語');
  for (const r of [a, b, c]) expect((await probeVideo(r.path)).durationSec).toBeGreaterThan(0.8);
  expect((await readdir(dir)).filter((f) => f.endsWith('.mp4')).sort()).toEqual(['العربية.mp4', 'русский.mp4', '日本語.mp4'].sort());
  // Names that still fold to nothing are refused against each other, not merged.
  await section(dir, '🎬', 4);
  const err = await recordSection(new SyntheticSource(160, 100), dir, '🎥', async () => {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
});

test('a second recorder on a file another recorder in this process holds is refused; the first is unharmed', async ({}, info) => {
  const dir = info.outputPath('v');
  const src = new SyntheticSource(160, 100);
  const first = new Recorder(src);
  await first.start(`${dir}/same.mp4`);
  const second = new Recorder(new SyntheticSource(160, 100));
  const err = await second.start(`${dir}/same.mp4`).catch((e: unknown) => e);
  expect(err, String(err)).toBeInstanceOf(OutputLockedError);
  const e = err as OutputLockedError;
  expect(e.code).toBe('ERECORD_OUTPUT_LOCKED');
  expect(e.ownerPid).toBe(process.pid);
  expect(e.message).toContain(`${dir}/same.mp4`);
  expect(second.recording).toBe(false);
  // Two sections of one name at once: the same.
  const err2 = await recordSection(new SyntheticSource(160, 100), dir, 'same', async () => {}).catch((x: unknown) => x);
  expect(err2).toBeInstanceOf(OutputLockedError);
  await sleepUntil(src.firstFrameAt!, 1500);
  const r = await first.stop();
  expect(r.durationSec).toBeGreaterThan(1.3);
  expect(existsSync(`${dir}/.same.mp4.lock`)).toBe(false);
  // Released: the file can be recorded again.
  await section(dir, 'same', 3, 500);
});

test('a recorder in another process holds its file: refused while it runs, taken over once it is killed', async ({}, info) => {
  const dir = info.outputPath('v');
  const proc = execa(process.execPath, ['--import', 'tsx', child, 'sigint', dir], { reject: false, timeout: 60_000, buffer: true });
  try {
    const started = await new Promise<{ pid: number; node: number }>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        const line = d
          .toString()
          .split('\n')
          .find((l) => l.includes('"started"'));
        if (line) resolve(JSON.parse(line));
      });
      void proc.then((r) => reject(new Error(`the child exited: ${r.stderr}`)));
    });
    const err = await recordSection(new SyntheticSource(160, 100), dir, 'child', async () => {}).catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(OutputLockedError);
    expect((err as OutputLockedError).ownerPid).toBe(started.node);
    expect((err as Error).message).toContain(`process ${started.node}`);
    // The holder dies without cleaning up: its lock is left behind, but its owner is provably gone.
    proc.kill('SIGKILL');
    await proc;
    for (let i = 0; i < 50 && alive(started.pid); i++) await sleep(100); // its ffmpeg ends on stdin EOF
    expect(existsSync(`${dir}/.child.mp4.lock`)).toBe(true);
    const r = await section(dir, 'child', 5, 800);
    expect(r.path).toBe(`${dir}/child.mp4`);
    expect(existsSync(`${dir}/.child.mp4.lock`)).toBe(false);
  } finally {
    proc.kill('SIGKILL');
  }
});
