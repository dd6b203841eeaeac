import { test, expect } from '@playwright/test';
import { joinSections, probeVideo, recordSection } from '../../src/record/index.js';
import { decodeErrors, ffmpegChildren, frameAt, framePng, phaseOf, rgbAt, sleepUntil } from './record-helpers.js';
import { SyntheticSource } from './record-synthetic.js';

test.afterEach(async () => {
  expect(await ffmpegChildren()).toEqual([]);
});

async function changing(src: SyntheticSource, ms: number) {
  const t0 = src.firstFrameAt!;
  for (let i = 1; i * 500 < ms; i++) {
    await sleepUntil(t0, i * 500);
    src.setPhase(i % 8);
  }
  await sleepUntil(t0, ms);
}

test('webm: VP9, playable, right duration and content; webm sections join with chapters', async ({}, info) => {
  const dir = info.outputPath('v');
  const src = new SyntheticSource(721, 401);
  const r = await recordSection(src, dir, 'web', () => changing(src, 3000), { format: 'webm' });
  expect(r.path).toMatch(/web\.webm$/);
  const v = await probeVideo(r.path);
  expect(v.codec).toBe('vp9');
  expect(v.pixFmt).toBe('yuv420p');
  expect([v.width, v.height]).toEqual([722, 402]);
  expect(Math.abs(v.durationSec - r.wallSec)).toBeLessThan(0.1);
  expect(phaseOf(rgbAt(await frameAt(r.path, 1.25), 40, 200))).toBe(2);
  expect(await decodeErrors(r.path)).toBe('');

  const src2 = new SyntheticSource(721, 401);
  const r2 = await recordSection(src2, dir, 'web two', () => changing(src2, 1500), { format: 'webm', crf: 35 });
  const joined = await joinSections(
    [
      { path: r.path, title: 'One' },
      { path: r2.path, title: 'Two' },
    ],
    `${dir}/all.webm`,
  );
  const j = await probeVideo(joined);
  expect(j.chapters.map((c) => c.title)).toEqual(['One', 'Two']);
  expect(j.durationSec).toBeCloseTo(r.durationSec + r2.durationSec, 1);
});

test('gif: palette-based, 10 fps by default, odd size kept, playable', async ({}, info) => {
  const src = new SyntheticSource(721, 401);
  const r = await recordSection(src, info.outputPath('v'), 'anim', () => changing(src, 3000), { format: 'gif' });
  expect(r.path).toMatch(/anim\.gif$/);
  const v = await probeVideo(r.path);
  expect(v.codec).toBe('gif');
  expect([v.width, v.height]).toEqual([721, 401]);
  expect(r.fps).toBe(10);
  expect(r.frames).toBe(Math.round(r.wallSec * 10));
  expect(Math.abs(v.durationSec - r.wallSec)).toBeLessThan(0.15);
  expect(phaseOf(rgbAt(await frameAt(r.path, 1.25), 40, 200))).toBe(2);
  expect(await decodeErrors(r.path)).toBe('');
});

test('scale: a factor and a letterbox box', async ({}, info) => {
  const src = new SyntheticSource(640, 400);
  const half = await recordSection(src, info.outputPath('v'), 'half', () => changing(src, 1200), { scale: 0.5 });
  expect([half.width, half.height]).toEqual([320, 200]);
  const src2 = new SyntheticSource(640, 400);
  const box = await recordSection(src2, info.outputPath('v'), 'box', () => changing(src2, 1200), { scale: { width: 300, height: 300 } });
  expect([box.width, box.height]).toEqual([300, 300]);
  const f = await frameAt(box.path, 0.3);
  expect(Math.max(...rgbAt(f, 150, 20))).toBeLessThan(30); // bar above
  expect(phaseOf(rgbAt(f, 30, 150))).toBe(0);
});

test('keycast and click rings are drawn into the video', async ({}, info) => {
  const src = new SyntheticSource(640, 400);
  // Video time of the input: start() can take longer than 500 ms on a busy machine (ffmpeg's start).
  let inputSec = 0;
  const r = await recordSection(
    src,
    info.outputPath('v'),
    'overlays',
    async () => {
      const t0 = src.firstFrameAt!;
      await sleepUntil(t0, 500);
      inputSec = (performance.now() - t0) / 1000;
      for (const label of ['l', 's', ' ', '-', 'l', 'Enter']) src.emit({ type: 'key', label, at: Date.now() });
      src.emit({ type: 'click', x: 480, y: 100, button: 'left', at: Date.now() });
      src.movePointer(480, 100);
      await sleepUntil(t0, inputSec * 1000 + 2000);
    },
    { keycast: true, clickRings: true },
  );
  const png = info.outputPath('keycast.png');
  await framePng(r.path, inputSec + 0.1, png);
  await info.attach('keycast and ring', { path: png, contentType: 'image/png' });
  const f = await frameAt(r.path, inputSec + 0.1);
  // Ring: in most directions, some pixel 10..30 px from the click is the ring's orange, not the blue background.
  let ring = 0;
  for (let deg = 0; deg < 360; deg += 10) {
    const a = (deg * Math.PI) / 180;
    for (let d = 10; d <= 30; d++) {
      const [R, G, B] = rgbAt(f, Math.round(480 + d * Math.cos(a)), Math.round(100 + d * Math.sin(a)));
      if (R > 170 && G > 120 && B < 120) {
        ring++;
        break;
      }
    }
  }
  expect(ring).toBeGreaterThan(24);
  // Caption: dark box with bright text, bottom centre (rendered with sharp: give it a moment).
  const fc = await frameAt(r.path, inputSec + 0.6);
  let dark = 0;
  let bright = 0;
  for (let y = 320; y < 390; y++)
    for (let x = 220; x < 420; x++) {
      const p = rgbAt(fc, x, y);
      if (Math.max(...p) < 90) dark++;
      if (Math.min(...p) > 200) bright++;
    }
  expect(dark).toBeGreaterThan(1000);
  expect(bright).toBeGreaterThan(50);
  // Gone again 2 s later: the caption area shows the plain pattern.
  const later = await frameAt(r.path, inputSec + 1.9);
  expect(phaseOf(rgbAt(later, 250, 360))).toBe(0);
  expect(src.inputListeners).toBe(0);
});
