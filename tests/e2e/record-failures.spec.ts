import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  DiskSpaceError,
  OutputDirectoryError,
  probeVideo,
  recordSection,
  Recorder,
  RecordingError,
  SourceNotConnectedError,
  EncoderCrashedError,
} from '../../src/record/index.js';
import { alive, decodeErrors, ffmpegChildren, frameAt, phaseOf, rgbAt, sleep, sleepUntil } from './record-helpers.js';
import { SyntheticSource } from './record-synthetic.js';

test.afterEach(async () => {
  expect(await ffmpegChildren()).toEqual([]);
});

const child = fileURLToPath(new URL('./record-child.ts', import.meta.url));

test('less free space than minFreeBytes → DiskSpaceError naming free vs needed and the option', async ({}, info) => {
  const src = new SyntheticSource(64, 64);
  const dir = info.outputPath('videos');
  let ran = false;
  const err = await recordSection(
    src,
    dir,
    'nospace',
    async () => {
      ran = true;
    },
    { minFreeBytes: Number.MAX_SAFE_INTEGER },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DiskSpaceError);
  expect(err).toBeInstanceOf(RecordingError);
  const e = err as DiskSpaceError;
  expect(e.code).toBe('ERECORD_DISK_SPACE');
  expect(e.message).toMatch(/GiB free, .* needed/);
  expect(e.message).toContain('minFreeBytes');
  expect(e.freeBytes).toBeGreaterThan(0);
  expect(ran).toBe(false);
  expect(existsSync(`${dir}/nospace.mp4`)).toBe(false);
});

test('an output directory that cannot be created → OutputDirectoryError naming the path', async ({}, info) => {
  const file = info.outputPath('not-a-dir');
  await mkdir(info.outputPath(), { recursive: true });
  await writeFile(file, 'x');
  const err = await recordSection(new SyntheticSource(64, 64), `${file}/videos`, 's', async () => {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OutputDirectoryError);
  expect((err as OutputDirectoryError).message).toContain(`${file}/videos`);
  expect((err as OutputDirectoryError).code).toBe('EOUTPUTDIR');
});

test('a source that never connects → SourceNotConnectedError after 5 s; one that connects late is fine', async ({}, info) => {
  const down = new SyntheticSource(64, 64);
  down.connected = false;
  const t = performance.now();
  const err = await new Recorder(down).start(info.outputPath('v/never.mp4')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SourceNotConnectedError);
  expect(performance.now() - t).toBeGreaterThan(4900);
  expect(performance.now() - t).toBeLessThan(7000);

  const late = new SyntheticSource(64, 64);
  late.connected = false;
  setTimeout(() => {
    late.connected = true;
  }, 1000);
  const r = await recordSection(late, info.outputPath('v'), 'late', () => sleep(1000));
  expect(r.durationSec).toBeGreaterThan(0.9);
});

test('ffmpeg killed mid-section → restarted into a second segment; final file has the full duration', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  const rec = new Recorder(src);
  const path = info.outputPath('videos/killed.mp4');
  await rec.start(path);
  const t0 = src.firstFrameAt!;
  const pids: number[] = [];
  for (let i = 1; i <= 10; i++) {
    await sleepUntil(t0, i * 500);
    src.setPhase(i % 8);
    if (i === 5) {
      pids.push(rec.ffmpegPid!);
      process.kill(rec.ffmpegPid!, 'SIGKILL');
    }
  }
  await sleepUntil(t0, 5500);
  pids.push(rec.ffmpegPid!);
  const r = await rec.stop();
  expect(pids[1]).not.toBe(pids[0]);
  expect(pids.some(alive)).toBe(false);
  expect(r.segments).toBe(2);
  expect(Math.abs(r.durationSec - r.wallSec) / r.wallSec).toBeLessThan(0.02);
  const v = await probeVideo(path);
  expect(v.fps).toBe(30);
  expect(v.frames).toBe(Math.round(v.durationSec * 30)); // still constant frame rate
  expect(await decodeErrors(path)).toBe('');
  // Before the kill and after the restart the picture is right.
  expect(phaseOf(rgbAt(await frameAt(path, 1.2), 20, 120))).toBe(2);
  expect(phaseOf(rgbAt(await frameAt(path, 4.2), 20, 120))).toBe(8 % 8);
  // No segment files (nor the lock) left behind.
  expect((await readdir(info.outputPath('videos'))).filter((f) => f.startsWith('.killed.mp4.'))).toEqual([]);
});

test('ffmpeg dies twice → EncoderCrashedError at the end, the video up to then is kept and playable', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  const dir = info.outputPath('videos');
  let secondRestartPid: number | undefined;
  const rec = { pid: 0 };
  const err = await recordSection(src, dir, 'twice', async () => {
    const t0 = src.firstFrameAt!;
    const kids = async () => (await ffmpegChildren())[0];
    await sleepUntil(t0, 1000);
    src.setPhase(1);
    await sleepUntil(t0, 2000);
    rec.pid = (await kids())!;
    process.kill(rec.pid, 'SIGKILL');
    await sleepUntil(t0, 3000);
    src.setPhase(2);
    await sleepUntil(t0, 3500);
    secondRestartPid = await kids();
    process.kill(secondRestartPid!, 'SIGKILL');
    await sleepUntil(t0, 4500);
  }).catch((e: unknown) => e);
  expect(err, String(err)).toBeInstanceOf(EncoderCrashedError);
  expect((err as EncoderCrashedError).message).toMatch(/died again/);
  expect(secondRestartPid).not.toBe(rec.pid);
  const path = `${dir}/twice.mp4`;
  expect(await decodeErrors(path)).toBe('');
  const v = await probeVideo(path);
  expect(v.durationSec).toBeGreaterThan(2.5);
  expect(v.durationSec).toBeLessThan(3.8);
  expect(phaseOf(rgbAt(await frameAt(path, 1.3), 20, 120))).toBe(1);
});

test('without ffmpeg on PATH → RecordingStartError with an install hint', async ({}, info) => {
  const r = await execa(process.execPath, ['--import', 'tsx', child, 'noffmpeg', info.outputPath('v')], {
    env: { PATH: '/nonexistent' },
    extendEnv: false,
    cwd: process.cwd(),
    reject: false,
    timeout: 60_000,
  });
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  expect(out.error.code).toBe('ERECORD_START');
  expect(out.error.name).toBe('RecordingStartError');
  expect(out.error.message).toContain('ffmpeg was not found');
  expect(out.error.hint).toContain('apt-get install ffmpeg');
});

test('SIGINT: the active recording is finalized (playable), ffmpeg is gone, the process exits', async ({}, info) => {
  const dir = info.outputPath('v');
  // Info level: the child's log says the recording was stopped (the default shows warnings only).
  const proc = execa(process.execPath, ['--import', 'tsx', child, 'sigint', dir], {
    reject: false,
    timeout: 60_000,
    buffer: true,
    env: { DEMOTOOL_LOG_LEVEL: 'info' },
  });
  let pid = 0;
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const m = d.toString().match(/"pid":(\d+)/);
      if (m) {
        pid = Number(m[1]);
        resolve();
      }
    });
    proc.catch(reject);
  });
  await sleep(2000);
  proc.kill('SIGINT');
  const r = await proc;
  expect(r.signal).toBe('SIGINT'); // re-raised once the file was done: the default exit
  expect(alive(pid)).toBe(false);
  const v = await probeVideo(`${dir}/child.mp4`);
  expect(v.durationSec).toBeGreaterThan(1.8);
  expect(v.durationSec).toBeLessThan(3);
  expect(await decodeErrors(`${dir}/child.mp4`)).toBe('');
  expect(r.stderr).toContain('recording stopped');
});
