/**
 * Batch ffmpeg, ffprobe and qemu-img calls have a timeout (scaled by DEMOTOOL_TIMEOUT_SCALE):
 * the child is killed and a CommandTimeoutError says which command. A FIFO with no writer
 * makes each of them hang for real in open().
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { CommandTimeoutError, TimeoutError } from '../../src/errors.js';
import { qemuImgCheck, qemuImgInfo } from '../../src/qemu-img.js';
import { createOverlay } from '../../src/libvirt/overlay.js';
import { runFfmpeg } from '../../src/record/ffmpeg-run.js';
import { probeVideo } from '../../src/record/index.js';
import { defaultTimeout } from '../../src/timeouts.js';

test.describe.configure({ timeout: 40_000 });

let savedScale: string | undefined;
test.beforeEach(() => {
  savedScale = process.env.DEMOTOOL_TIMEOUT_SCALE;
  process.env.DEMOTOOL_TIMEOUT_SCALE = '0.005';
});
test.afterEach(async () => {
  if (savedScale === undefined) delete process.env.DEMOTOOL_TIMEOUT_SCALE;
  else process.env.DEMOTOOL_TIMEOUT_SCALE = savedScale;
  // Nothing left running: the timed-out children were killed.
  const r = await execa('pgrep', ['-P', String(process.pid)], { reject: false });
  const kids = r.stdout.trim() ? r.stdout.trim().split('\n') : [];
  const names = await Promise.all(kids.map((pid) => execa('ps', ['-o', 'comm=', '-p', pid], { reject: false }).then((p) => p.stdout.trim())));
  expect(names.filter((n) => /ffmpeg|ffprobe|qemu-img/.test(n))).toEqual([]);
});

async function fifo(info: { outputPath: (...p: string[]) => string }, name: string): Promise<string> {
  const path = info.outputPath(name);
  await mkdir(info.outputPath(), { recursive: true });
  await execa('mkfifo', [path]);
  return path;
}

async function timedOut(p: Promise<unknown>, command: RegExp, limitMs: number): Promise<CommandTimeoutError> {
  const t = performance.now();
  const err = await p.then(
    (v) => ({ resolved: v }),
    (e: unknown) => e,
  );
  expect(err, JSON.stringify(err)).toBeInstanceOf(CommandTimeoutError);
  expect(err).toBeInstanceOf(TimeoutError);
  const e = err as CommandTimeoutError;
  expect(e.code).toBe('ETIMEOUT');
  expect(e.command).toMatch(command);
  expect(e.message).toMatch(/did not finish within \d+ ms and was killed/);
  expect(e.hint).toContain('DEMOTOOL_TIMEOUT_SCALE');
  expect(performance.now() - t).toBeLessThan(limitMs);
  return e;
}

test('the defaults are named and scaled', () => {
  expect(defaultTimeout('ffmpegBatch')).toBe(300_000 * 0.005);
  expect(defaultTimeout('ffprobe')).toBe(30_000 * 0.005);
  expect(defaultTimeout('qemuImg')).toBe(120_000 * 0.005);
});

test('a batch ffmpeg that hangs is killed at its timeout', async ({}, info) => {
  const input = await fifo(info, 'in.fifo');
  const out = info.outputPath('out.mp4');
  const e = await timedOut(
    runFfmpeg({ inputs: [{ path: input, options: ['-f', 'mpegts'] }], output: out, outputOptions: ['-c', 'copy'] }),
    /^ffmpeg writing .*out\.mp4$/,
    10_000,
  );
  expect(e.timeoutMs).toBe(1_500);
});

test('an ffprobe that hangs is killed at its timeout', async ({}, info) => {
  const input = await fifo(info, 'probe.fifo');
  await timedOut(probeVideo(input), /^ffprobe reading .*probe\.fifo$/, 10_000);
});

test('qemu-img info, check and create that hang are killed at their timeout; no overlay is left', async ({}, info) => {
  await timedOut(qemuImgInfo(await fifo(info, 'info.fifo')), /^qemu-img info/, 10_000);
  await timedOut(qemuImgCheck(await fifo(info, 'check.fifo')), /^qemu-img check/, 10_000);
  const overlay = info.outputPath('run/overlay.qcow2');
  await timedOut(createOverlay(await fifo(info, 'base.fifo'), overlay), /^qemu-img create/, 10_000);
  expect(existsSync(overlay)).toBe(false);
});
