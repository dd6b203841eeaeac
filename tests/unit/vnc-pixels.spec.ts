import { expect, test } from '@playwright/test';
import { blitRect, cursorToRgba, pixelsToRgba, type PixelFormat } from '../../src/vnc/pixels.js';

const qemu: PixelFormat = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColor: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
};

function convert(src: number[], format: PixelFormat, count: number): number[] {
  const dst = Buffer.alloc(count * 4);
  pixelsToRgba(Buffer.from(src), 0, format, dst, 0, count);
  return [...dst];
}

test("QEMU's native format (32 bpp LE, r<<16 g<<8 b): bytes B,G,R,X → R,G,B,255", () => {
  expect(convert([0x30, 0x20, 0x10, 0x00, 0xff, 0x00, 0x80, 0x99], qemu, 2)).toEqual([0x10, 0x20, 0x30, 255, 0x80, 0x00, 0xff, 255]);
});

test('32 bpp big-endian with the same shifts: bytes X,R,G,B', () => {
  expect(convert([0x00, 0x10, 0x20, 0x30], { ...qemu, bigEndian: true }, 1)).toEqual([0x10, 0x20, 0x30, 255]);
});

test('32 bpp with r<<0 g<<8 b<<16 (bytes R,G,B,X)', () => {
  expect(convert([0x10, 0x20, 0x30, 0x00], { ...qemu, redShift: 0, blueShift: 16 }, 1)).toEqual([0x10, 0x20, 0x30, 255]);
});

test('16 bpp RGB565 little-endian, channels scaled to 0..255', () => {
  const f: PixelFormat = {
    bitsPerPixel: 16,
    depth: 16,
    bigEndian: false,
    trueColor: true,
    redMax: 31,
    greenMax: 63,
    blueMax: 31,
    redShift: 11,
    greenShift: 5,
    blueShift: 0,
  };
  const white = 0xffff,
    red = 31 << 11,
    green = 63 << 5,
    mid = (16 << 11) | (32 << 5) | 16;
  const src = [white, red, green, mid].flatMap((v) => [v & 0xff, v >> 8]);
  expect(convert(src, f, 4)).toEqual([255, 255, 255, 255, 255, 0, 0, 255, 0, 255, 0, 255, 132, 130, 132, 255]);
});

test('8 bpp BGR233', () => {
  const f: PixelFormat = {
    bitsPerPixel: 8,
    depth: 8,
    bigEndian: false,
    trueColor: true,
    redMax: 7,
    greenMax: 7,
    blueMax: 3,
    redShift: 0,
    greenShift: 3,
    blueShift: 6,
  };
  expect(convert([0b11_000_111], f, 1)).toEqual([255, 0, 255, 255]);
});

test('blitRect writes rows at the right place and clips to the frame', () => {
  const frame = { width: 4, height: 3, rgba: Buffer.alloc(4 * 3 * 4) };
  // a 3x2 rect at (2,2): only (2,2) and (3,2) fit
  const data = Buffer.alloc(3 * 2 * 4);
  for (let i = 0; i < 6; i++) data.writeUInt32LE(0x000000 | (i + 1), i * 4); // blue = 1..6
  blitRect(frame, { x: 2, y: 2, width: 3, height: 2, data }, qemu);
  const px = (x: number, y: number) => [...frame.rgba.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 4)];
  expect(px(2, 2)).toEqual([0, 0, 1, 255]);
  expect(px(3, 2)).toEqual([0, 0, 2, 255]);
  expect(px(1, 2)).toEqual([0, 0, 0, 0]);
  expect(px(3, 1)).toEqual([0, 0, 0, 0]);
});

test('cursor: pixels plus a 1-bit mask, rows padded to bytes, MSB first', () => {
  // 10x2 cursor: row 0 fully visible, row 1 only the first and last pixel
  const w = 10,
    h = 2;
  const pixels = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) pixels.writeUInt32LE(0xff0000, i * 4); // red
  const mask = Buffer.from([0xff, 0xc0, 0x80, 0x40]);
  const rgba = cursorToRgba(w, h, pixels, mask, qemu);
  const alpha = (x: number, y: number) => rgba[(y * w + x) * 4 + 3];
  expect([...rgba.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
  for (let x = 0; x < w; x++) expect(alpha(x, 0)).toBe(255);
  expect(Array.from({ length: w }, (_, x) => alpha(x, 1))).toEqual([255, 0, 0, 0, 0, 0, 0, 0, 0, 255]);
});
