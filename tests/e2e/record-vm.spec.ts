import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { probeVideo } from '../../src/record/index.js';
import { sharedVm } from './support/vm.js';
import { decodeErrors, frameAt, sleep } from './record-helpers.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
const { vm, demo } = sharedVm('tiny', 'record-vm');

/** Mean absolute difference (0..255) between a video frame (RGB) and a PNG screenshot, outside `skip`. */
async function frameVsScreenshot(video: string, sec: number, png: Buffer, skip: { x: number; y: number; w: number; h: number }) {
  const f = await frameAt(video, sec);
  const s = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([f.width, f.height]).toEqual([s.info.width, s.info.height]);
  let sum = 0;
  let n = 0;
  for (let y = 0; y < f.height; y++)
    for (let x = 0; x < f.width; x++) {
      if (x >= skip.x && x < skip.x + skip.w && y >= skip.y && y < skip.y + skip.h) continue;
      const i = (y * f.width + x) * 3;
      for (let c = i; c < i + 3; c++) sum += Math.abs(f.rgb[c]! - s.data[c]!);
      n += 3;
    }
  return sum / n;
}

test('a 10 s section while typing: 30 fps, true duration, and the frame shows what the screen showed', async ({}, testInfo) => {
  let shot!: Buffer;
  let shotAt = 0;
  let t0 = 0;
  // A full screen before the section, so its first frame looks nothing like the cleared one at the end.
  await vm().keyboard.type("seq -s ' ' 100000 100600\n", { delay: 0 });
  await vm().waitForStableScreen({ duration: 500 });
  const result = await vm().record('typing', async () => {
    t0 = performance.now();
    await vm().keyboard.type('clear; echo the recorder saw this line\n');
    await vm().waitForStableScreen({ duration: 500 });
    shotAt = (performance.now() - t0) / 1000;
    shot = await vm().screenshot({ path: testInfo.outputPath('at-moment.png') });
    await sleep(10_000 - (performance.now() - t0));
  });
  const probe = await probeVideo(result.path);
  expect(probe.fps).toBe(30);
  expect(probe.codec).toBe('h264');
  expect(probe.pixFmt).toBe('yuv420p');
  expect(Math.abs(probe.durationSec - result.wallSec) / result.wallSec).toBeLessThan(0.02);
  expect(result.wallSec).toBeGreaterThan(9.9);
  expect(await decodeErrors(result.path)).toBe('');
  // On a text console the recorder draws its arrow at the screen's centre (screenshots have no pointer): skip it.
  const { width = 0, height = 0 } = await sharp(shot).metadata();
  const pointer = { x: Math.floor(width / 2) - 4, y: Math.floor(height / 2) - 4, w: 32, h: 40 };
  const diff = await frameVsScreenshot(result.path, shotAt + 0.3, shot, pointer);
  expect(diff).toBeLessThan(4);
  // ...and a frame from before the typing does not look like it.
  const before = await frameVsScreenshot(result.path, 0.05, shot, pointer);
  expect(before).toBeGreaterThan(diff * 2);
});

test('two sections give two files, and the demo joins them with two chapters', async () => {
  const first = await vm().record('first part', async () => {
    await vm().keyboard.type('echo one\n', { delay: 20 });
  });
  const second = await vm().record('second part', async () => {
    await vm().keyboard.type('echo two\n', { delay: 20 });
  });
  expect(first.path).toMatch(/record-vm\/first-part\.mp4$/);
  expect(second.path).toMatch(/record-vm\/second-part\.mp4$/);
  expect(existsSync(first.posterPath!)).toBe(true);
  await demo().close(); // joins, and removes the VM: this test is last but for the ones below
  const joined = await probeVideo(`${demo().directory}/record-vm.mp4`);
  const titles = joined.chapters.map((c) => c.title);
  expect(titles.slice(-2)).toEqual(['first part', 'second part']);
  expect(Math.abs(joined.durationSec - demo().sections.reduce((s, r) => s + r.durationSec, 0))).toBeLessThan(0.2);
});
