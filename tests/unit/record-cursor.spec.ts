import { test, expect } from '@playwright/test';
import { blendImage, builtinArrow, compositeCursor, sameCursor } from '../../src/record/cursor.js';
import type { CursorImage, Frame } from '../../src/frames.js';

function solid(width: number, height: number, rgb: [number, number, number]): Frame {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([...rgb, 255], i * 4);
  return { width, height, rgba };
}
const px = (f: Frame, x: number, y: number) => [...f.rgba.subarray((y * f.width + x) * 4, (y * f.width + x) * 4 + 4)];

/** 3x3 cursor: red opaque centre pixel, half-transparent blue elsewhere but one transparent corner. */
function testCursor(): CursorImage {
  const rgba = Buffer.alloc(3 * 3 * 4);
  for (let i = 0; i < 9; i++) rgba.set([0, 0, 255, 128], i * 4);
  rgba.set([255, 0, 0, 255], 4 * 4);
  rgba.set([0, 0, 0, 0], 0);
  return { width: 3, height: 3, hotX: 1, hotY: 1, rgba };
}

test.describe('cursor compositing', () => {
  test('the hotspot lands on the pointer position', () => {
    const f = solid(20, 10, [0, 255, 0]);
    compositeCursor(f, testCursor(), 7, 4);
    expect(px(f, 7, 4)).toEqual([255, 0, 0, 255]);
    // Neighbours are the 50% blue over green; the top-left corner of the cursor is transparent.
    expect(px(f, 8, 5)).toEqual([0, 127, 128, 255]);
    expect(px(f, 6, 3)).toEqual([0, 255, 0, 255]);
    // Outside the cursor nothing changed.
    expect(px(f, 9, 4)).toEqual([0, 255, 0, 255]);
    expect(px(f, 7, 6)).toEqual([0, 255, 0, 255]);
  });

  test('clipped at the frame edges, no wrap-around', () => {
    const f = solid(4, 4, [10, 10, 10]);
    compositeCursor(f, testCursor(), 0, 0);
    expect(px(f, 0, 0)).toEqual([255, 0, 0, 255]);
    compositeCursor(f, testCursor(), 3, 3);
    expect(px(f, 3, 3)).toEqual([255, 0, 0, 255]);
    compositeCursor(f, testCursor(), -10, 50);
    // Only the two hits plus their in-frame neighbours changed; the far corners are untouched.
    expect(px(f, 3, 0)).toEqual([10, 10, 10, 255]);
    expect(px(f, 0, 3)).toEqual([10, 10, 10, 255]);
  });

  test('the built-in arrow: tip at the hotspot, black outline, white fill, transparent outside', () => {
    const a = builtinArrow();
    expect([a.hotX, a.hotY]).toEqual([0, 0]);
    const at = (x: number, y: number) => [...a.rgba.subarray((y * a.width + x) * 4, (y * a.width + x) * 4 + 4)];
    expect(at(0, 0)).toEqual([0, 0, 0, 255]);
    expect(at(1, 3)).toEqual([255, 255, 255, 255]);
    expect(at(a.width - 1, 0)[3]).toBe(0);
    const f = solid(40, 40, [100, 100, 100]);
    compositeCursor(f, a, 10, 20);
    expect(px(f, 10, 20)).toEqual([0, 0, 0, 255]);
    expect(px(f, 11, 23)).toEqual([255, 255, 255, 255]);
    expect(px(f, 9, 20)).toEqual([100, 100, 100, 255]);
  });

  test('opacity scales the blend', () => {
    const f = solid(1, 1, [0, 0, 0]);
    blendImage(f, { width: 1, height: 1, rgba: Buffer.from([200, 100, 50, 255]) }, 0, 0, 0.5);
    expect(px(f, 0, 0)).toEqual([100, 50, 25, 255]);
  });

  test('sameCursor compares shape, not identity', () => {
    const a = testCursor();
    expect(sameCursor(a, { ...a, rgba: Buffer.from(a.rgba) })).toBe(true);
    expect(sameCursor(a, { ...a, hotX: 0 })).toBe(false);
    expect(sameCursor(a, undefined)).toBe(false);
    expect(sameCursor(undefined, undefined)).toBe(true);
  });
});
