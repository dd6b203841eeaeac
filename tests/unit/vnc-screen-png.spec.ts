import { expect, test } from '@playwright/test';
import { readFile, rm } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import type { Frame } from '../../src/frames.js';
import { cropFrame } from '../../src/vnc/image.js';
import { Screen, type VncClient } from '../../src/vnc/index.js';
import { screenPng, tableCrc32 } from '../../src/vnc/screen-png.js';

/** A screen-like frame: a flat background, a noisy window (every byte value), and some see-through pixels. */
function testFrame(width: number, height: number): Frame {
  const rgba = Buffer.alloc(width * height * 4);
  let seed = 12345;
  for (let p = 0; p < width * height; p++) {
    const x = p % width;
    const y = Math.floor(p / width);
    const inWindow = x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4;
    for (let c = 0; c < 4; c++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      rgba[p * 4 + c] = inWindow ? seed >> 16 : [58, 110, 165, 255][c]!;
    }
  }
  return { width, height, rgba };
}

async function sharpDecode(png: Buffer): Promise<Frame> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: data };
}

test('the screenshot PNG decodes to exactly the mirror pixels, alpha included (sharp and pngjs agree)', async () => {
  const frame = testFrame(301, 173); // odd sizes: no row happens to align
  const png = await screenPng(frame, { x: 0, y: 0, width: 301, height: 173 });
  const bySharp = await sharpDecode(png);
  expect({ width: bySharp.width, height: bySharp.height }).toEqual({ width: 301, height: 173 });
  expect(bySharp.rgba.equals(frame.rgba)).toBe(true);
  const byPngjs = PNG.sync.read(png); // checks every chunk's CRC
  expect(byPngjs.data.equals(frame.rgba)).toBe(true);
});

test('a clip encodes just that rectangle, the same pixels as the mirror copy of it', async () => {
  const frame = testFrame(200, 120);
  const clip = { x: 37, y: 11, width: 90, height: 61 };
  const decoded = await sharpDecode(await screenPng(frame, clip));
  expect({ width: decoded.width, height: decoded.height }).toEqual({ width: 90, height: 61 });
  expect(decoded.rgba.equals(cropFrame(frame, clip).rgba)).toBe(true);
});

test('Screen.screenshot: PNG of the live mirror (and of a clip cut to the screen), written to path too', async () => {
  const frame = testFrame(160, 100);
  const client = { frame: () => frame } as unknown as VncClient;
  const screen = new Screen(client, { artifactsDir: () => '/tmp' });
  const path = `/tmp/demotool-screen-png-${process.pid}/shot.png`;
  try {
    const png = await screen.screenshot({ path });
    expect((await sharpDecode(png)).rgba.equals(frame.rgba)).toBe(true);
    expect((await readFile(path)).equals(png)).toBe(true);
  } finally {
    await rm(`/tmp/demotool-screen-png-${process.pid}`, { recursive: true, force: true });
  }
  const clipped = await sharpDecode(await screen.screenshot({ clip: { x: 150, y: 90, width: 50, height: 50 } }));
  expect({ width: clipped.width, height: clipped.height }).toEqual({ width: 10, height: 10 });
  expect(clipped.rgba.equals(cropFrame(frame, { x: 150, y: 90, width: 10, height: 10 }).rgba)).toBe(true);
});

test('the mirror changing while zlib works does not reach the PNG already asked for', async () => {
  const frame = testFrame(64, 48);
  const before = Buffer.from(frame.rgba);
  const pending = screenPng(frame, { x: 0, y: 0, width: 64, height: 48 });
  frame.rgba.fill(0);
  expect((await sharpDecode(await pending)).rgba.equals(before)).toBe(true);
});

test('screenshots at once and one after (reusing the scanline buffer) each show their own frame', async () => {
  const region = { x: 0, y: 0, width: 80, height: 60 };
  const frames = [testFrame(80, 60), { ...testFrame(80, 60), rgba: Buffer.alloc(80 * 60 * 4, 0x5a) }, testFrame(80, 60)];
  frames[2]!.rgba.fill(0xff, 0, 4000);
  const [a, b] = await Promise.all([screenPng(frames[0]!, region), screenPng(frames[1]!, region)]);
  const c = await screenPng(frames[2]!, region);
  for (const [png, frame] of [
    [a, frames[0]!],
    [b, frames[1]!],
    [c, frames[2]!],
  ] as const)
    expect((await sharpDecode(png)).rgba.equals(frame.rgba)).toBe(true);
});

test("the CRC-32 for Node before 20.15 agrees with zlib's and the standard check value", () => {
  expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  const data = testFrame(50, 50).rgba;
  const zlibCrc32 = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  if (zlibCrc32) expect(tableCrc32(data)).toBe(zlibCrc32(data));
  expect(tableCrc32(Buffer.alloc(0))).toBe(0);
});
