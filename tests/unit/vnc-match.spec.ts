import { expect, test } from '@playwright/test';
import { findBest, searchArea, similarityAt } from '../../src/vnc/match.js';
import { makeNeedle, type RgbaImage } from '../../src/vnc/needle.js';
import type { Region } from '../../src/geometry.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillRect(img: RgbaImage, r: Region, rgb: [number, number, number]): void {
  for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) img.rgba.set([...rgb, 255], (y * img.width + x) * 4);
}

/** A desktop-like picture: gradient, windows, buttons, and 'text' made of small glyph blocks. */
function desktop(width: number, height: number, seed = 1): RgbaImage {
  const img: RgbaImage = { width, height, rgba: new Uint8Array(width * height * 4) };
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) img.rgba.set([40 + (x * 60) / width, 60, 90 + (y * 80) / height, 255], (y * width + x) * 4);
  const rand = rng(seed);
  for (let i = 0; i < 40; i++) {
    const w = Math.min(width - 1, 30 + Math.floor(rand() * 200));
    const h = Math.min(height - 1, 20 + Math.floor(rand() * 120));
    const x = Math.floor(rand() * (width - w));
    const y = Math.floor(rand() * (height - h));
    fillRect(img, { x, y, width: w, height: h }, [rand() * 255, rand() * 255, rand() * 255]);
    for (let g = 0; g < w / 8 - 1; g++) {
      if (rand() < 0.3) continue;
      fillRect(img, { x: x + 4 + g * 8, y: y + 4, width: 5, height: Math.min(9, h - 5) }, [20, 20, 20]);
    }
  }
  return img;
}

function crop(img: RgbaImage, r: Region): RgbaImage {
  const out: RgbaImage = { width: r.width, height: r.height, rgba: new Uint8Array(r.width * r.height * 4) };
  for (let y = 0; y < r.height; y++)
    out.rgba.set(img.rgba.subarray(((r.y + y) * img.width + r.x) * 4, ((r.y + y) * img.width + r.x + r.width) * 4), y * r.width * 4);
  return out;
}

/** The screen content moved by (dx, dy), the uncovered edge filled grey. */
function shifted(img: RgbaImage, dx: number, dy: number): RgbaImage {
  const out: RgbaImage = { width: img.width, height: img.height, rgba: new Uint8Array(img.rgba.length).fill(128) };
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) continue;
      out.rgba.set(img.rgba.subarray((sy * img.width + sx) * 4, (sy * img.width + sx) * 4 + 4), (y * img.width + x) * 4);
    }
  return out;
}

const spot: Region = { x: 301, y: 187, width: 96, height: 40 };

test('exact match at the expected position scores 1', () => {
  const screen = desktop(800, 600);
  const needle = makeNeedle(crop(screen, spot));
  const area = searchArea(screen, needle, spot, 50)!;
  const m = findBest(screen, needle, area, { expected: spot });
  expect(m).toEqual({ x: spot.x, y: spot.y, similarity: 1 });
});

test('a 5-px shift is still found, exactly', () => {
  const before = desktop(800, 600);
  const needle = makeNeedle(crop(before, spot));
  for (const [dx, dy] of [
    [5, 0],
    [0, -5],
    [5, 5],
    [-5, 3],
  ] as const) {
    const screen = shifted(before, dx, dy);
    const m = findBest(screen, needle, searchArea(screen, needle, spot, 50)!, { expected: spot });
    expect(m, `shift ${dx},${dy}`).toEqual({ x: spot.x + dx, y: spot.y + dy, similarity: 1 });
  }
});

test('whole-screen search finds it, with or without a threshold', () => {
  const screen = desktop(1280, 800, 7);
  for (const r of [
    { x: 1003, y: 611, width: 24, height: 14 }, // factor < 2: exhaustive
    { x: 517, y: 333, width: 120, height: 64 }, // 1.2M positions: coarse-to-fine
    { x: 9, y: 701, width: 200, height: 90 },
  ]) {
    const needle = makeNeedle(crop(screen, r));
    const started = Date.now();
    expect(findBest(screen, needle, searchArea(screen, needle)!), JSON.stringify(r)).toEqual({ x: r.x, y: r.y, similarity: 1 });
    expect(findBest(screen, needle, searchArea(screen, needle)!, { threshold: 0.95 })).toEqual({ x: r.x, y: r.y, similarity: 1 });
    expect(Date.now() - started, 'search time ms').toBeLessThan(3000);
  }
});

test('excluded rectangles (reference coordinates) and transparent pixels are ignored', () => {
  const before = desktop(800, 600);
  const reference = crop(before, spot);
  const screen = desktop(800, 600);
  // a clock inside the reference area changes
  fillRect(screen, { x: spot.x + 60, y: spot.y + 10, width: 30, height: 20 }, [255, 255, 0]);
  const plain = makeNeedle(reference);
  expect(similarityAt(screen, plain, spot.x, spot.y)).toBeLessThan(0.95);

  const masked = makeNeedle(reference, [{ x: 60, y: 10, width: 30, height: 20 }]);
  expect(masked.count).toBe(96 * 40 - 30 * 20);
  expect(findBest(screen, masked, searchArea(screen, masked, spot, 50)!, { expected: spot })).toEqual({ x: spot.x, y: spot.y, similarity: 1 });

  const transparent = { ...reference, rgba: Uint8Array.from(reference.rgba) };
  for (let y = 10; y < 30; y++) for (let x = 60; x < 90; x++) transparent.rgba[(y * 96 + x) * 4 + 3] = 0;
  expect(similarityAt(screen, makeNeedle(transparent), spot.x, spot.y)).toBe(1);
});

/** A terminal-like screen: rows of 8x16 cells with glyphs from a small alphabet. */
function textScreen(width: number, height: number, seed: number): RgbaImage {
  const rand = rng(seed);
  const glyphs = Array.from({ length: 60 }, () => Array.from({ length: 45 }, () => rand() < 0.4));
  const img: RgbaImage = { width, height, rgba: new Uint8Array(width * height * 4).fill(255) };
  for (let cy = 0; cy + 16 <= height; cy += 16)
    for (let cx = 0; cx + 8 <= width; cx += 8) {
      if (rand() < 0.15) continue;
      const g = glyphs[Math.floor(rand() * 60)] ?? [];
      for (let i = 0; i < 45; i++) if (g[i]) img.rgba.set([0, 0, 0], ((cy + 4 + Math.floor(i / 5)) * width + cx + 1 + (i % 5)) * 4);
    }
  return img;
}

test('a word on a screen full of text is found exactly (threshold search)', () => {
  const screen = textScreen(1280, 800, 5);
  const rand = rng(11);
  for (let i = 0; i < 8; i++) {
    const r = { x: Math.floor(rand() * 1150), y: Math.floor(rand() * 760), width: 30 + Math.floor(rand() * 90), height: 16 + Math.floor(rand() * 16) };
    const needle = makeNeedle(crop(screen, r));
    const m = findBest(screen, needle, searchArea(screen, needle)!, { threshold: 0.95 });
    expect(m, JSON.stringify(r)).toEqual({ x: r.x, y: r.y, similarity: 1 });
  }
});

test('a reference that is not on screen scores below the threshold', () => {
  const screen = desktop(800, 600, 1);
  const other = desktop(800, 600, 99);
  const needle = makeNeedle(crop(other, spot));
  const m = findBest(screen, needle, searchArea(screen, needle)!, { threshold: 0.95 });
  expect(m.similarity).toBeLessThan(0.95);
  expect(m.similarity).toBeGreaterThanOrEqual(0);
});

test('similarity is 1 − RMS/255: a uniform +10 shift scores 1 − 10/255', () => {
  const rand = rng(3);
  const screen: RgbaImage = { width: 200, height: 100, rgba: new Uint8Array(200 * 100 * 4).map((_, i) => (i % 4 === 3 ? 255 : rand() * 240)) };
  const ref = crop(screen, { x: 10, y: 10, width: 50, height: 30 });
  const brighter = { ...ref, rgba: ref.rgba.map((v, i) => (i % 4 === 3 ? v : v + 10)) };
  expect(similarityAt(screen, makeNeedle(brighter), 10, 10)).toBeCloseTo(1 - 10 / 255, 6);
  // half the pixels off by 255 in every channel: RMS = 255/√2
  const half = { ...ref, rgba: Uint8Array.from(ref.rgba) };
  for (let p = 0; p < 50 * 15; p++) for (let c = 0; c < 3; c++) half.rgba[p * 4 + c] = (ref.rgba[p * 4 + c] ?? 0) > 127 ? 0 : 255;
  expect(similarityAt(screen, makeNeedle(half), 10, 10)).toBeLessThan(0.5);
});

test('search area: region grown by the margin, clamped, needle must fit', () => {
  const screen = { width: 800, height: 600 };
  expect(searchArea(screen, { width: 100, height: 50 }, { x: 20, y: 500, width: 100, height: 50 }, 50)).toEqual({ x0: 0, y0: 450, x1: 70, y1: 550 });
  // a region bigger than the reference: anywhere inside it, plus the margin
  expect(searchArea(screen, { width: 10, height: 10 }, { x: 100, y: 100, width: 50, height: 20 }, 0)).toEqual({ x0: 100, y0: 100, x1: 140, y1: 110 });
  expect(searchArea(screen, { width: 900, height: 10 })).toBeUndefined();
  expect(searchArea(screen, { width: 10, height: 10 })).toEqual({ x0: 0, y0: 0, x1: 790, y1: 590 });
});

test('a fully excluded reference is refused', () => {
  const screen = desktop(100, 100);
  const needle = makeNeedle(crop(screen, { x: 0, y: 0, width: 10, height: 10 }), [{ x: 0, y: 0, width: 10, height: 10 }]);
  expect(() => findBest(screen, needle, searchArea(screen, needle)!)).toThrow(/no scored pixels/);
});
