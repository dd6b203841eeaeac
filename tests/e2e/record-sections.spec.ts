import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { joinSections, probeVideo, recordSection } from '../../src/record/index.js';
import { signalHandlersInstalled } from '../../src/process-exit.js';
import { decodeErrors, ffmpegChildren, frameAt, phaseOf, rgbAt, sleepUntil } from './record-helpers.js';
import { SyntheticSource } from './record-synthetic.js';

test.afterEach(async () => {
  expect(await ffmpegChildren()).toEqual([]);
});

async function section(dir: string, title: string, phase: number, ms: number, size: [number, number] = [320, 200]) {
  const src = new SyntheticSource(...size);
  src.setPhase(phase);
  return recordSection(src, dir, title, async () => {
    await sleepUntil(src.firstFrameAt!, ms);
  });
}

test('two sections joined: one file, two chapters named after the sections (stream copy)', async ({}, info) => {
  const dir = info.outputPath('demo');
  const a = await section(dir, 'Install the app', 1, 2500);
  const b = await section(dir, 'First run: hello', 4, 1800);
  expect(a.path).toMatch(/install-the-app\.mp4$/);
  expect(b.path).toMatch(/first-run-hello\.mp4$/);
  const out = await joinSections(
    [
      { path: a.path, title: a.section },
      { path: b.path, title: b.section },
    ],
    `${dir}/demo.mp4`,
  );
  const v = await probeVideo(out);
  expect(v.chapters.map((c) => c.title)).toEqual(['Install the app', 'First run: hello']);
  expect(v.chapters[0]!.startSec).toBe(0);
  expect(v.chapters[0]!.endSec).toBeCloseTo(a.durationSec, 1);
  expect(v.chapters[1]!.startSec).toBeCloseTo(a.durationSec, 1);
  expect(v.chapters[1]!.endSec).toBeCloseTo(a.durationSec + b.durationSec, 1);
  expect(v.durationSec).toBeCloseTo(a.durationSec + b.durationSec, 1);
  expect(v.fps).toBe(30);
  expect(phaseOf(rgbAt(await frameAt(out, 1.0), 20, 120))).toBe(1);
  expect(phaseOf(rgbAt(await frameAt(out, a.durationSec + 1.0), 20, 120))).toBe(4);
  expect(await decodeErrors(out)).toBe('');
});

test('sections of different sizes are re-encoded to the first size, chapters kept', async ({}, info) => {
  const dir = info.outputPath('demo');
  const a = await section(dir, 'small', 2, 1500);
  const b = await section(dir, 'big', 6, 1500, [721, 401]);
  const out = await joinSections(
    [
      { path: a.path, title: 'Small one' },
      { path: b.path, title: 'Big one' },
    ],
    `${dir}/joined.mp4`,
  );
  const v = await probeVideo(out);
  expect([v.width, v.height]).toEqual([320, 200]);
  expect(v.chapters.map((c) => c.title)).toEqual(['Small one', 'Big one']);
  expect(v.durationSec).toBeCloseTo(a.durationSec + b.durationSec, 1);
  expect(phaseOf(rgbAt(await frameAt(out, a.durationSec + 0.7), 40, 100))).toBe(6);
});

test('the body throws: the error is rethrown and the partial video is finalized and playable', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  const boom = new Error('the test failed here');
  const dir = info.outputPath('videos');
  const listenersBefore = process.listenerCount('SIGINT');
  const err = await recordSection(
    src,
    dir,
    'fails',
    async () => {
      await sleepUntil(src.firstFrameAt!, 1000);
      src.setPhase(3);
      await sleepUntil(src.firstFrameAt!, 2000);
      throw boom;
    },
    { keycast: true, clickRings: true },
  ).catch((e: unknown) => e);
  expect(err).toBe(boom);
  const v = await probeVideo(`${dir}/fails.mp4`);
  expect(v.durationSec).toBeGreaterThan(1.9);
  expect(v.durationSec).toBeLessThan(2.3);
  expect(phaseOf(rgbAt(await frameAt(`${dir}/fails.mp4`, 1.5), 20, 120))).toBe(3);
  expect(await decodeErrors(`${dir}/fails.mp4`)).toBe('');
  expect(existsSync(`${dir}/fails.png`)).toBe(true);
  // Nothing outlives the section: no input listener, no signal handler.
  expect(src.inputListeners).toBe(0);
  expect(process.listenerCount('SIGINT')).toBe(listenersBefore);
  expect(signalHandlersInstalled()).toBe(false);
});

test('nothing leaks: timers, listeners, signal handlers and ffmpeg are gone after the section', async ({}, info) => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const src = new SyntheticSource(320, 200);
  const before = { timers: timers(), sigint: process.listenerCount('SIGINT'), sigterm: process.listenerCount('SIGTERM') };
  let during = { installed: false, listeners: 0 };
  let pid: number | undefined;
  const r = await recordSection(
    src,
    info.outputPath('videos'),
    'leaks',
    async () => {
      during = { installed: signalHandlersInstalled(), listeners: src.inputListeners };
      const out = await ffmpegChildren();
      pid = out[0];
      await sleepUntil(src.firstFrameAt!, 1200);
    },
    { keycast: true },
  );
  expect(during).toEqual({ installed: true, listeners: 1 });
  expect(pid).toBeGreaterThan(0);
  expect(r.posterPath).toMatch(/leaks\.png$/);
  expect(timers()).toBeLessThanOrEqual(before.timers);
  expect(process.listenerCount('SIGINT')).toBe(before.sigint);
  expect(process.listenerCount('SIGTERM')).toBe(before.sigterm);
  expect(src.inputListeners).toBe(0);
  expect(await ffmpegChildren()).toEqual([]);
});

test('an existing file of the same name is overwritten', async ({}, info) => {
  const dir = info.outputPath('videos');
  const first = await section(dir, 'again', 1, 2500);
  const second = await section(dir, 'again', 5, 1200);
  expect(second.path).toBe(first.path);
  const v = await probeVideo(second.path);
  expect(v.durationSec).toBeLessThan(1.6);
  expect(phaseOf(rgbAt(await frameAt(second.path, 0.5), 20, 120))).toBe(5);
});
