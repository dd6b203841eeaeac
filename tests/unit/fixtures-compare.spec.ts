import { test, expect } from '@playwright/test';
import { PNG } from 'pngjs';
import { allowedDiffPixels, compareScreenshots, maskScreenshot, boxesRelativeTo } from '../../src/vnc/compare.js';
import { UsageError } from '../../src/errors.js';

/** A grey w×h PNG with optional rectangles of another colour. */
function png(w: number, h: number, boxes: { x: number; y: number; width: number; height: number; rgb: number[] }[] = []): Buffer {
  const img = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) img.data.set([128, 128, 128, 255], i * 4);
  for (const b of boxes) {
    for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) img.data.set([...b.rgb, 255], (y * w + x) * 4);
  }
  return PNG.sync.write(img);
}

test('identical images pass with no diff image', () => {
  const r = compareScreenshots(png(40, 30), png(40, 30));
  expect(r).toMatchObject({ pass: true, diffPixels: 0, allowedPixels: 0 });
  expect(r.diff).toBeUndefined();
});

test('a changed 5×4 block is 20 differing pixels; budgets by count and ratio decide', () => {
  const a = png(40, 30);
  const b = png(40, 30, [{ x: 10, y: 10, width: 5, height: 4, rgb: [255, 255, 255] }]);
  const strict = compareScreenshots(a, b);
  expect(strict).toMatchObject({ pass: false, diffPixels: 20 });
  expect(PNG.sync.read(strict.diff!).width).toBe(40);
  expect(compareScreenshots(a, b, { maxDiffPixels: 20 }).pass).toBe(true);
  expect(compareScreenshots(a, b, { maxDiffPixels: 19 }).pass).toBe(false);
  // 20 of 1200 pixels is 1.67 %
  expect(compareScreenshots(a, b, { maxDiffPixelRatio: 0.02 }).pass).toBe(true);
  expect(compareScreenshots(a, b, { maxDiffPixelRatio: 0.01 }).pass).toBe(false);
  // Both given: the stricter wins, as in Playwright.
  expect(compareScreenshots(a, b, { maxDiffPixels: 100, maxDiffPixelRatio: 0.01 }).pass).toBe(false);
});

test('the colour threshold ignores small shifts but not big ones', () => {
  const a = png(20, 20);
  const slight = png(20, 20, [{ x: 0, y: 0, width: 20, height: 20, rgb: [132, 132, 132] }]);
  expect(compareScreenshots(a, slight).pass).toBe(true);
  expect(compareScreenshots(a, slight, { threshold: 0 }).diffPixels).toBe(400);
});

test('masks are painted on both images, so changes under them never count', () => {
  const a = png(40, 30, [{ x: 30, y: 0, width: 10, height: 5, rgb: [0, 0, 0] }]);
  const b = png(40, 30, [{ x: 30, y: 0, width: 10, height: 5, rgb: [255, 255, 0] }]);
  expect(compareScreenshots(a, b).diffPixels).toBe(50);
  expect(compareScreenshots(a, b, { mask: [{ x: 30, y: 0, width: 10, height: 5 }] }).pass).toBe(true);
  // A mask that covers only part of the change leaves the rest.
  expect(compareScreenshots(a, b, { mask: [{ x: 30, y: 0, width: 5, height: 5 }] }).diffPixels).toBe(25);
  const masked = PNG.sync.read(maskScreenshot(a, [{ x: 0, y: 0, width: 2, height: 1 }]));
  expect([...masked.data.subarray(0, 4)]).toEqual([255, 0, 255, 255]);
  expect([...masked.data.subarray(8, 12)]).toEqual([128, 128, 128, 255]);
});

test('different sizes fail and say both sizes', () => {
  const r = compareScreenshots(png(40, 30), png(30, 40));
  expect(r.pass).toBe(false);
  expect(r.sizeMismatch).toEqual({ expected: { width: 40, height: 30 }, actual: { width: 30, height: 40 } });
});

test('bad options and bad PNGs are usage errors', () => {
  expect(() => compareScreenshots(png(2, 2), png(2, 2), { maxDiffPixelRatio: 2 })).toThrow(UsageError);
  expect(() => compareScreenshots(png(2, 2), png(2, 2), { maxDiffPixels: -1 })).toThrow(/non-negative/);
  expect(() => compareScreenshots(Buffer.from('nope'), png(2, 2))).toThrow(/expected image is not a readable PNG/);
  expect(() => maskScreenshot(png(2, 2), [{ x: 0, y: 0, width: 1, height: 1 }], 'pink')).toThrow(/#rrggbb/);
});

test('budget and clip helpers', () => {
  expect(allowedDiffPixels(100, 100, {})).toBe(0);
  expect(allowedDiffPixels(100, 100, { maxDiffPixelRatio: 0.01 })).toBe(100);
  expect(boxesRelativeTo([{ x: 50, y: 60, width: 5, height: 5 }], { x: 40, y: 40, width: 100, height: 100 })).toEqual([{ x: 10, y: 20, width: 5, height: 5 }]);
});
