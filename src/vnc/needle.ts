/**
 * A reference image prepared for matching (an openQA-style "needle"): which of its pixels
 * are scored, as runs, ordered so that a search rejects wrong positions early.
 *
 * Unscored pixels: transparent ones in the reference (alpha < 128) and `exclude`
 * rectangles, given in REFERENCE coordinates (they move with the match).
 */
import type { Region } from '../geometry.js';
import { checkRegion } from './region.js';

export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export interface Needle extends RgbaImage {
  /** Runs of scored pixels: [row, startColumn, length] triples. */
  runs: Int32Array;
  /** Number of scored pixels. */
  count: number;
}

export function makeNeedle(image: RgbaImage, exclude: Region[] = []): Needle {
  const { width, height, rgba } = image;
  const scored = new Uint8Array(width * height);
  for (let i = 0; i < scored.length; i++) scored[i] = (rgba[i * 4 + 3] ?? 0) >= 128 ? 1 : 0;
  for (const r of exclude) {
    checkRegion(r, 'exclude region');
    for (let y = Math.max(0, r.y); y < Math.min(height, r.y + r.height); y++) {
      const row = y * width;
      scored.fill(0, row + Math.max(0, r.x), row + Math.min(width, r.x + r.width));
    }
  }
  return { width, height, rgba, ...informativeFirst(rgba, width, runsOf(scored, width, height)) };
}

/** The needle's scored pixels as a 0/1 mask, one byte per pixel. */
export function scoredMask(needle: Needle): Uint8Array {
  const scored = new Uint8Array(needle.width * needle.height);
  forEachRun(needle.runs, (row, start, length) => {
    const p = row * needle.width + start;
    scored.fill(1, p, p + length);
  });
  return scored;
}

/** Calls `fn` for each [row, start, length] triple of `runs`. */
function forEachRun(runs: Int32Array, fn: (row: number, start: number, length: number) => void): void {
  for (let k = 0; k + 2 < runs.length; k += 3) fn(runs[k] ?? 0, runs[k + 1] ?? 0, runs[k + 2] ?? 0);
}

/** Calls `fn` with the index of every scored pixel. */
function forEachPixel(runs: Int32Array, width: number, fn: (p: number) => void): void {
  forEachRun(runs, (row, start, length) => {
    const first = row * width + start;
    for (let p = first; p < first + length; p++) fn(p);
  });
}

/** Sum of |channel − mean| over R, G and B of pixel `p`. */
function distanceFromMean(rgba: Uint8Array, p: number, mean: readonly [number, number, number]): number {
  return Math.abs((rgba[p * 4] ?? 0) - mean[0]) + Math.abs((rgba[p * 4 + 1] ?? 0) - mean[1]) + Math.abs((rgba[p * 4 + 2] ?? 0) - mean[2]);
}

/** Mean R, G and B over the given pixels. */
export function meanColour(rgba: Uint8Array, pixels: Iterable<number>): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let n = 0;
  for (const p of pixels) {
    r += rgba[p * 4] ?? 0;
    g += rgba[p * 4 + 1] ?? 0;
    b += rgba[p * 4 + 2] ?? 0;
    n++;
  }
  return n ? [r / n, g / n, b / n] : [0, 0, 0];
}

/** Indices of all scored pixels, in raster order. */
export function scoredPixels(needle: Needle): number[] {
  const pixels: number[] = [];
  forEachPixel(needle.runs, needle.width, (p) => pixels.push(p));
  return pixels;
}

/** How far `p`'s colour is from the mean (the sum of the R, G and B distances). */
export function distinctness(rgba: Uint8Array, mean: readonly [number, number, number]): (p: number) => number {
  return (p) => distanceFromMean(rgba, p, mean);
}

/**
 * Reorders runs so the ones that differ most from the reference's mean colour come first:
 * on a wrong spot they blow the early-exit limit sooner than flat background rows would.
 */
function informativeFirst(rgba: Uint8Array, width: number, r: { runs: Int32Array; count: number }): { runs: Int32Array; count: number } {
  if (r.runs.length < 6) return r;
  const pixels: number[] = [];
  forEachPixel(r.runs, width, (p) => pixels.push(p));
  const distance = distinctness(rgba, meanColour(rgba, pixels));
  const score: number[] = [];
  forEachRun(r.runs, (row, start, length) => {
    let s = 0;
    const first = row * width + start;
    for (let p = first; p < first + length; p++) s += distance(p);
    score.push(s);
  });
  const order = [...score.keys()].sort((a, b) => (score[b] ?? 0) - (score[a] ?? 0));
  const runs = new Int32Array(r.runs.length);
  order.forEach((k, i) => runs.set(r.runs.subarray(k * 3, k * 3 + 3), i * 3));
  return { runs, count: r.count };
}

function runsOf(scored: Uint8Array, width: number, height: number): { runs: Int32Array; count: number } {
  const runs: number[] = [];
  let count = 0;
  for (let y = 0; y < height; y++) {
    const row = scored.subarray(y * width, (y + 1) * width);
    let x = 0;
    while (x < width) {
      while (x < width && !row[x]) x++;
      const start = x;
      while (x < width && row[x]) x++;
      if (x > start) {
        runs.push(y, start, x - start);
        count += x - start;
      }
    }
  }
  return { runs: Int32Array.from(runs), count };
}

/** Downscale averaging scored pixels only; a block counts if at least half of it is scored. */
export function downscaleNeedle(needle: Needle, f: number): Needle {
  const scored = scoredMask(needle);
  const width = Math.floor(needle.width / f);
  const height = Math.floor(needle.height / f);
  const out = new Uint8Array(width * height * 4);
  const keep = new Uint8Array(width * height);
  for (let by = 0; by < height; by++) {
    for (let bx = 0; bx < width; bx++) {
      let n = 0;
      let rs = 0;
      let gs = 0;
      let bs = 0;
      for (let dy = 0; dy < f; dy++) {
        for (let dx = 0; dx < f; dx++) {
          const p = (by * f + dy) * needle.width + bx * f + dx;
          if (!scored[p]) continue;
          n++;
          rs += needle.rgba[p * 4] ?? 0;
          gs += needle.rgba[p * 4 + 1] ?? 0;
          bs += needle.rgba[p * 4 + 2] ?? 0;
        }
      }
      const o = (by * width + bx) * 4;
      if (n * 2 >= f * f) {
        keep[by * width + bx] = 1;
        out[o] = Math.round(rs / n);
        out[o + 1] = Math.round(gs / n);
        out[o + 2] = Math.round(bs / n);
      }
      out[o + 3] = 255;
    }
  }
  return { width, height, rgba: out, ...informativeFirst(out, width, runsOf(keep, width, height)) };
}
