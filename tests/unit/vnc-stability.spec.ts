import { expect, test } from '@playwright/test';
import { BLINK_WINDOW_MS, ChangeDetector, StabilityTracker, diffBox } from '../../src/vnc/stability.js';
import type { Frame } from '../../src/frames.js';

function screen(paint: Array<[number, number, number, number]> = []): Frame {
  const f: Frame = { width: 200, height: 100, rgba: Buffer.alloc(200 * 100 * 4) };
  for (const [x0, y0, w, h] of paint) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) f.rgba.writeUInt32BE(0xffffffff, (y * 200 + x) * 4);
  return f;
}
const text = screen([[0, 0, 50, 16]]);
const cursorOn = screen([
  [0, 0, 50, 16],
  [54, 14, 9, 2],
]);
const moreText = screen([[0, 0, 60, 16]]);
const window = screen([[20, 20, 150, 70]]);

test('diff box', () => {
  expect(diffBox(text, cursorOn)).toEqual({ x: 54, y: 14, width: 9, height: 2 });
  expect(diffBox(text, text)).toBeUndefined();
});

test('stable: a blinking cursor does not restart the clock, a real change does', () => {
  const t = new StabilityTracker(text, 0);
  t.observe(cursorOn, 100); // unknown yet: counts as a change
  expect(t.stableFor(100)).toBe(0);
  t.observe(text, 500); // flipped back: blink
  t.observe(cursorOn, 1000);
  t.observe(text, 1500);
  expect(t.stableFor(1500)).toBe(1400);
  t.observe(moreText, 1600); // typed a character
  expect(t.stableFor(1700)).toBe(100);
  expect(t.changes).toBe(2);
});

test('stable: ignorePixels swallows small changes entirely', () => {
  const t = new StabilityTracker(text, 0, 20);
  t.observe(cursorOn, 100);
  expect(t.stableFor(100)).toBe(100);
  t.observe(window, 200);
  expect(t.stableFor(200)).toBe(0);
});

test('change: a big change counts at once', () => {
  expect(new ChangeDetector(text).observe(window, 10)).toBe(true);
});

test('change: a blink is not a change, a small change that stays is (after the blink window)', () => {
  const d = new ChangeDetector(text);
  expect(d.observe(cursorOn, 100)).toBe(false);
  expect(d.decidesAt()).toBe(100 + BLINK_WINDOW_MS);
  expect(d.observe(text, 500)).toBe(false); // flipped back: a blink
  expect(d.decidesAt()).toBeUndefined();
  expect(d.observe(cursorOn, 900)).toBe(false); // known blink: ignored for good
  expect(d.observe(cursorOn, 900 + 5 * BLINK_WINDOW_MS)).toBe(false);
  expect(d.observe(moreText, 5000)).toBe(false); // small and new: wait and see
  expect(d.observe(moreText, 5000 + BLINK_WINDOW_MS)).toBe(true);
});

test('change: a third picture while unsure is a change', () => {
  const d = new ChangeDetector(text);
  expect(d.observe(cursorOn, 0)).toBe(false);
  expect(d.observe(moreText, 10)).toBe(true);
});
