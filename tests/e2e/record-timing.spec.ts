import { test, expect } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { probeVideo, recordSection, Recorder } from '../../src/record/index.js';
import { decodeErrors, distance, ffmpegChildren, frameAt, framePng, phaseOf, rgbAt, sleepUntil } from './record-helpers.js';
import { PALETTE, SyntheticSource } from './record-synthetic.js';

test.afterEach(async () => {
  expect(await ffmpegChildren()).toEqual([]);
});

test('30 fps, exact CFR, duration = wall-clock time of the section (±2%)', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  let bodyEnd = 0;
  const result = await recordSection(src, info.outputPath('videos'), 'Timing', async () => {
    const t0 = src.firstFrameAt!;
    for (let i = 1; i <= 14; i++) {
      await sleepUntil(t0, i * 500);
      src.setPhase(i);
      src.movePointer(20 + i * 15, 20 + i * 8);
    }
    await sleepUntil(t0, 7200);
    bodyEnd = performance.now();
  });
  const measured = (bodyEnd - src.firstFrameAt!) / 1000;
  const info2 = await probeVideo(result.path);
  expect(result.path).toMatch(/videos\/timing\.mp4$/);
  expect(result.section).toBe('Timing');
  expect(info2.codec).toBe('h264');
  expect(info2.pixFmt).toBe('yuv420p');
  expect(info2.fps).toBe(30);
  expect(Math.abs(info2.durationSec - measured) / measured).toBeLessThan(0.02);
  expect(Math.abs(result.durationSec - result.wallSec) / result.wallSec).toBeLessThan(0.02);
  // Every frame is one slot long: constant frame rate.
  expect(info2.frames).toBe(Math.round(info2.durationSec * 30));
  expect(result.frames).toBe(info2.frames);
  expect(result.duplicatedFrames + result.droppedFrames).toBeLessThan(result.frames);
  expect(result.duplicatedFrames).toBeGreaterThan(result.frames / 2); // a mostly static screen
  // +faststart: the index (moov) comes before the data (mdat), so browsers can start playing at once.
  const head = (await readFile(result.path)).subarray(0, 4096).toString('latin1');
  expect(head.indexOf('moov')).toBeGreaterThan(0);
  expect(head.indexOf('mdat') === -1 || head.indexOf('moov') < head.indexOf('mdat')).toBe(true);
  expect(await decodeErrors(result.path)).toBe('');
  info.annotations.push({
    type: 'timing',
    description: `video ${info2.durationSec}s, measured ${measured.toFixed(3)}s, frames ${result.frames}, dup ${result.duplicatedFrames}, dropped ${result.droppedFrames}`,
  });
});

test('frame content: the picture at time t is the pattern shown at t, with the pointer drawn in', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  const pointerFor = (i: number) => ({ x: 40 + i * 20, y: 30 + i * 10 });
  const result = await recordSection(src, info.outputPath('videos'), 'content', async () => {
    const t0 = src.firstFrameAt!;
    for (let i = 1; i <= 5; i++) {
      await sleepUntil(t0, i * 1000);
      src.setPhase(i);
      const p = pointerFor(i);
      src.movePointer(p.x, p.y);
    }
    await sleepUntil(t0, 6000);
  });
  for (let i = 1; i <= 5; i++) {
    const f = await frameAt(result.path, i + 0.5);
    expect([f.width, f.height]).toEqual([320, 200]);
    expect(phaseOf(rgbAt(f, 20, 120))).toBe(i);
    expect(phaseOf(rgbAt(f, 300, 120))).toBe((i + 3) % 8);
    // Pointer: black tip at the pointer, white fill just inside the arrow.
    const p = pointerFor(i);
    const fill = rgbAt(f, p.x + 2, p.y + 6);
    expect(Math.min(...fill)).toBeGreaterThan(170);
    expect(Math.max(...rgbAt(f, p.x, p.y + 1))).toBeLessThan(110);
  }
  // Just before a change the old picture is still shown; just after, the new one (timing within a few frames).
  expect(phaseOf(rgbAt(await frameAt(result.path, 2.9), 20, 120))).toBe(2);
  expect(phaseOf(rgbAt(await frameAt(result.path, 3.1), 20, 120))).toBe(3);
  await framePng(result.path, 3.5, info.outputPath('frame-3.5s.png'));
  await info.attach('frame at 3.5 s', { path: info.outputPath('frame-3.5s.png'), contentType: 'image/png' });
  // The source's own buffer was never drawn on (the pointer last sat at 140,80 on the left half).
  const raw = src.frame();
  let touched = 0;
  for (let y = 30; y < 110; y++)
    for (let x = 40; x < 160; x++) {
      const k = (y * 320 + x) * 4;
      if (distance([raw.rgba[k]!, raw.rgba[k + 1]!, raw.rgba[k + 2]!], PALETTE[5]!) !== 0) touched++;
    }
  expect(touched).toBe(0);
});

test('odd size 721x401 is padded to 722x402; a resize mid-way is letterboxed into the first size', async ({}, info) => {
  const src = new SyntheticSource(721, 401);
  const result = await recordSection(
    src,
    info.outputPath('videos'),
    'odd',
    async () => {
      const t0 = src.firstFrameAt!;
      await sleepUntil(t0, 1000);
      src.setPhase(1);
      await sleepUntil(t0, 2000);
      src.resize(401, 401); // narrower: bars left and right
      src.setPhase(2);
      await sleepUntil(t0, 3500);
    },
    { cursor: false },
  );
  expect([result.width, result.height]).toEqual([722, 402]);
  const before = await frameAt(result.path, 1.5);
  expect(phaseOf(rgbAt(before, 100, 100))).toBe(1);
  expect(phaseOf(rgbAt(before, 700, 100))).toBe(4);
  const after = await frameAt(result.path, 3.0);
  expect(Math.max(...rgbAt(after, 40, 200))).toBeLessThan(30); // black bar
  expect(Math.max(...rgbAt(after, 690, 200))).toBeLessThan(30);
  expect(phaseOf(rgbAt(after, 250, 100))).toBe(2); // left half of the 401-wide screen, centred
  expect(phaseOf(rgbAt(after, 480, 100))).toBe(5);
  expect(await decodeErrors(result.path)).toBe('');
  await framePng(result.path, 3.0, info.outputPath('letterbox.png'));
  await info.attach('letterboxed frame', { path: info.outputPath('letterbox.png'), contentType: 'image/png' });
});

test('a disconnected source freezes the picture; recording goes on', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  let callsWhileDown = 0;
  const result = await recordSection(src, info.outputPath('videos'), 'reconnect', async () => {
    const t0 = src.firstFrameAt!;
    await sleepUntil(t0, 1000);
    src.setPhase(1);
    await sleepUntil(t0, 2000);
    src.connected = false;
    const calls = src.frameCalls;
    src.setPhase(2); // changes the mirror while "down": must not show up until reconnected
    await sleepUntil(t0, 4000);
    callsWhileDown = src.frameCalls - calls;
    src.setPhase(3);
    src.connected = true;
    await sleepUntil(t0, 5500);
  });
  expect(callsWhileDown).toBe(0);
  expect(Math.abs(result.durationSec - result.wallSec)).toBeLessThan(0.2);
  expect(phaseOf(rgbAt(await frameAt(result.path, 1.5), 100, 60))).toBe(1);
  expect(phaseOf(rgbAt(await frameAt(result.path, 3.0), 100, 60))).toBe(1);
  expect(phaseOf(rgbAt(await frameAt(result.path, 5.0), 100, 60))).toBe(3);
});

test('Recorder: start → stop, pid exposed while recording, gone after', async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  const rec = new Recorder(src, { poster: false });
  expect(rec.recording).toBe(false);
  await rec.start(info.outputPath('direct/a.mp4'));
  expect(rec.recording).toBe(true);
  const pid = rec.ffmpegPid!;
  expect(pid).toBeGreaterThan(0);
  await sleepUntil(src.firstFrameAt!, 1500);
  const r = await rec.stop();
  expect(rec.recording).toBe(false);
  expect(rec.ffmpegPid).toBeUndefined();
  expect(r.posterPath).toBeUndefined();
  expect(r.durationSec).toBeGreaterThan(1.3);
  // stop() twice gives the same result instead of failing.
  expect(await rec.stop()).toEqual(r);
  await expect(rec.start(info.outputPath('direct/b.mp4'))).rejects.toThrow(/already started/);
});

test("the mirror's alpha bytes are ignored: resized frames and the poster stay visible", async ({}, info) => {
  const src = new SyntheticSource(320, 200);
  const clearAlpha = () => {
    const f = src.frame().rgba;
    for (let i = 3; i < f.length; i += 4) f[i] = 0;
  };
  clearAlpha();
  const r = await recordSection(
    src,
    info.outputPath('videos'),
    'alpha',
    async () => {
      await sleepUntil(src.firstFrameAt!, 500);
      src.resize(200, 200);
      src.setPhase(4);
      clearAlpha();
      await sleepUntil(src.firstFrameAt!, 1500);
    },
    { cursor: false },
  );
  expect(phaseOf(rgbAt(await frameAt(r.path, 0.2), 20, 120))).toBe(0);
  expect(phaseOf(rgbAt(await frameAt(r.path, 1.2), 80, 60))).toBe(4);
  const { data, info: png } = await sharp(r.posterPath!).raw().toBuffer({ resolveWithObject: true });
  expect(png.channels).toBe(3);
  expect([png.width, png.height]).toEqual([320, 200]);
  expect(phaseOf([...data.subarray((60 * 320 + 80) * 3, (60 * 320 + 80) * 3 + 3)])).toBe(4);
});
