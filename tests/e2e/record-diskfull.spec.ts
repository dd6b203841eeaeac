/**
 * Recordings are never lost: on a small tmpfs (mounted here, as root) the disk really fills.
 * A remux that fails keeps the segments and names them; free space running low while
 * recording stops the recording with a finished, playable video.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, statfs } from 'node:fs/promises';
import { DiskSpaceError, FinalizeError, probeVideo, Recorder, RecordingError } from '../../src/record/index.js';
import { decodeErrors, ffmpegChildren, sleep } from './record-helpers.js';
import { NoiseSource } from './record-synthetic.js';

test.skip(process.getuid?.() !== 0, 'mounting a tmpfs needs root');

test.afterEach(async () => {
  expect(await ffmpegChildren()).toEqual([]);
});

/** A fresh tmpfs of `size` at `dir` for the body, unmounted afterwards whatever happens. */
async function withTmpfs<T>(dir: string, size: string, body: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  try {
    return await body(dir);
  } finally {
    const r = await execa('umount', [dir], { reject: false });
    if (r.exitCode !== 0) await execa('umount', ['-l', dir], { reject: false });
  }
}

const segmentFiles = async (dir: string) => (await readdir(dir)).filter((f) => /\.seg\d+\.(ts|webm)$/.test(f)).map((f) => `${dir}/${f}`);
const sizeOf = async (files: string[]) => (await Promise.all(files.map((f) => stat(f).then((s) => s.size)))).reduce((a, b) => a + b, 0);
const freeOf = async (dir: string) => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};

test('Disk full: a remux failed by a full small tmpfs keeps the segments and names them in the error', async ({}, info) => {
  await withTmpfs(info.outputPath('small'), '2m', async (dir) => {
    const src = new NoiseSource(320, 240).start(30);
    // minFreeBytes 0: no free-space checks, so the disk fills for real at the remux.
    const rec = new Recorder(src, { minFreeBytes: 0, bitrate: '4M', poster: false });
    const out = `${dir}/full.mp4`;
    try {
      await rec.start(out);
      // Record until the segments take more than half of the disk: the remux cannot fit.
      const deadline = performance.now() + 30_000;
      while ((await sizeOf(await segmentFiles(dir))) < 1.15 * 1024 ** 2) {
        expect(performance.now() < deadline, 'the segments did not grow').toBe(true);
        await sleep(100);
      }
    } finally {
      src.stop();
    }
    const err = await rec.stop().catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(FinalizeError);
    expect(err).toBeInstanceOf(RecordingError);
    const e = err as FinalizeError;
    expect(e.code).toBe('ERECORD_FINALIZE');
    expect(e.message).toContain('the disk is full');
    expect(e.path).toBe(out);
    expect(existsSync(out)).toBe(false);
    // The segments, the only copy, are still there, named in the error, and readable.
    const kept = await segmentFiles(dir);
    expect(kept.length).toBeGreaterThan(0);
    expect(e.segments.sort()).toEqual(kept.sort());
    for (const s of kept) expect(e.message).toContain(s);
    expect(await sizeOf(kept)).toBeGreaterThan(1.15 * 1024 ** 2);
    expect(e.hint).toContain('free some disk space');
    expect(e.hint).toContain(`ffmpeg -i '${kept[0]}' -c copy '${out}'`);
    // Nothing else left: no half-written temp file, no lock.
    expect((await readdir(dir)).filter((f) => !kept.includes(`${dir}/${f}`))).toEqual([]);
    // Finishing by hand (the hint's command, into a disk with room) gives the video.
    const rescued = info.outputPath('rescued.mp4');
    await execa('ffmpeg', ['-v', 'error', '-y', '-i', kept[0]!, '-c', 'copy', rescued]);
    const v = await probeVideo(rescued);
    expect(v.durationSec).toBeGreaterThan(1);
    expect([v.width, v.height]).toEqual([320, 240]);
  });
});

test('free space running low while recording stops the recording with a finished, playable video', async ({}, info) => {
  await withTmpfs(info.outputPath('small'), '8m', async (dir) => {
    const src = new NoiseSource(320, 240).start(30);
    // minFreeBytes 1: the start check passes on this 8 MiB disk, the checks while recording are on.
    const rec = new Recorder(src, { minFreeBytes: 1, bitrate: '4M' });
    const out = `${dir}/low.mp4`;
    let stoppedAfterMs: number;
    try {
      await rec.start(out);
      const t0 = performance.now();
      while (rec.recording) {
        // Without the check, ffmpeg fills the disk in a few seconds and everything is lost.
        expect(performance.now() - t0, 'the recording was not stopped').toBeLessThan(30_000);
        await sleep(100);
      }
      stoppedAfterMs = performance.now() - t0;
    } finally {
      src.stop();
    }
    const err = await rec.stop().catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(DiskSpaceError);
    const e = err as DiskSpaceError;
    expect(e.code).toBe('ERECORD_DISK_LOW');
    expect(e.video).toBe(out);
    expect(e.message).toContain('the recording was stopped and the video up to then kept');
    expect(e.freeBytes).toBeLessThan(e.neededBytes);
    // The video up to the stop is there and decodes cleanly; the segments and the lock are gone.
    const v = await probeVideo(out);
    expect(v.durationSec).toBeGreaterThan(1.5);
    expect(v.durationSec).toBeLessThan(stoppedAfterMs / 1000 + 1.5);
    expect(await decodeErrors(out)).toBe('');
    expect(existsSync(`${dir}/low.png`)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['low.mp4', 'low.png']);
    expect(await freeOf(dir)).toBeGreaterThan(0);
  });
});

test('ffmpeg itself hitting the full disk is not restarted in vain; the segment is kept and named', async ({}, info) => {
  await withTmpfs(info.outputPath('small'), '2m', async (dir) => {
    const src = new NoiseSource(320, 240).start(30);
    const rec = new Recorder(src, { minFreeBytes: 0, bitrate: '4M', poster: false });
    const out = `${dir}/filled.mp4`;
    const pids: number[] = [];
    try {
      await rec.start(out);
      pids.push(rec.ffmpegPid!);
      // Until ffmpeg has died of ENOSPC (and, with the old code, its restart too).
      const deadline = performance.now() + 30_000;
      while (performance.now() < deadline && (await freeOf(dir)) > 0) await sleep(100);
      await sleep(1500);
      if (rec.ffmpegPid) pids.push(rec.ffmpegPid);
    } finally {
      src.stop();
    }
    const err = await rec.stop().catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(FinalizeError);
    const e = err as FinalizeError;
    expect(e.message).toContain('the disk is full');
    expect(e.message).toContain('the recording had already failed: the disk is full: ffmpeg stopped writing');
    expect(new Set(pids).size).toBe(1);
    const kept = await segmentFiles(dir);
    expect(kept).toHaveLength(1);
    expect(e.segments).toEqual(kept);
    expect(await sizeOf(kept)).toBeGreaterThan(1024 ** 2);
  });
});
