import { checkRegion } from './region.js';
/**
 * Finding a reference image (an openQA-style "needle") on the screen.
 *
 * Score: similarity = 1 − RMS(channel difference) / 255 over the scored pixels of the
 * reference (R, G and B; alpha ignored). 1 is pixel-exact; a uniform ±10 colour shift
 * scores ~0.96; a changed word in a small needle typically drops below 0.8. RMS rather
 * than mean absolute difference so that a few strongly differing pixels (changed text)
 * count more than a faint shade change everywhere.
 *
 * Unscored pixels: transparent ones in the reference (alpha < 128) and `exclude`
 * rectangles, given in REFERENCE coordinates (they move with the match).
 *
 * Search: exhaustive when cheap (with early exit, nearest-to-expected first), else
 * coarse-to-fine: box-downscale screen and needle by f, keep the best few coarse
 * positions, refine each at full resolution within ±f pixels.
 */
import type { Region } from '../geometry.js';

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

/** Top-left positions to try, inclusive. */
export interface SearchArea {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface MatchResult {
  x: number;
  y: number;
  similarity: number;
}

/** Work (positions × scored pixels) below which we search exhaustively. */
const EXHAUSTIVE_BUDGET = 25_000_000;
/** Coarse candidates refined at full resolution. */
const COARSE_CANDIDATES = 12;

export function makeNeedle(image: RgbaImage, exclude: Region[] = []): Needle {
  const { width, height, rgba } = image;
  const scored = new Uint8Array(width * height);
  for (let i = 0; i < scored.length; i++) scored[i] = rgba[i * 4 + 3] >= 128 ? 1 : 0;
  for (const r of exclude) {
    checkRegion(r, 'exclude region');
    for (let y = Math.max(0, r.y); y < Math.min(height, r.y + r.height); y++) {
      for (let x = Math.max(0, r.x); x < Math.min(width, r.x + r.width); x++) scored[y * width + x] = 0;
    }
  }
  return { width, height, rgba, ...informativeFirst(rgba, width, runsOf(scored, width, height)) };
}

/**
 * Reorders runs so the ones that differ most from the reference's mean colour come first:
 * on a wrong spot they blow the early-exit limit sooner than flat background rows would.
 */
function informativeFirst(rgba: Uint8Array, width: number, r: { runs: Int32Array; count: number }): { runs: Int32Array; count: number } {
  const n = r.runs.length / 3;
  if (n < 2) return r;
  const mean = [0, 0, 0];
  forEachPixel(r.runs, width, (p) => { for (let c = 0; c < 3; c++) mean[c] += rgba[p * 4 + c]; });
  for (let c = 0; c < 3; c++) mean[c] /= r.count;
  const score: number[] = [];
  for (let k = 0; k < n; k++) {
    let s = 0;
    const start = r.runs[k * 3] * width + r.runs[k * 3 + 1];
    for (let p = start; p < start + r.runs[k * 3 + 2]; p++) for (let c = 0; c < 3; c++) s += Math.abs(rgba[p * 4 + c] - mean[c]);
    score.push(s);
  }
  const order = [...score.keys()].sort((a, b) => score[b] - score[a]);
  const runs = new Int32Array(r.runs.length);
  order.forEach((k, i) => runs.set(r.runs.subarray(k * 3, k * 3 + 3), i * 3));
  return { runs, count: r.count };
}

function forEachPixel(runs: Int32Array, width: number, fn: (p: number) => void): void {
  for (let k = 0; k < runs.length; k += 3) {
    const start = runs[k] * width + runs[k + 1];
    for (let p = start; p < start + runs[k + 2]; p++) fn(p);
  }
}

function runsOf(scored: Uint8Array, width: number, height: number): { runs: Int32Array; count: number } {
  const runs: number[] = [];
  let count = 0;
  for (let y = 0; y < height; y++) {
    let x = 0;
    while (x < width) {
      while (x < width && !scored[y * width + x]) x++;
      const start = x;
      while (x < width && scored[y * width + x]) x++;
      if (x > start) {
        runs.push(y, start, x - start);
        count += x - start;
      }
    }
  }
  return { runs: Int32Array.from(runs), count };
}

/**
 * Where the needle's top-left may be: `region` grown by `margin` (the needle must fit
 * inside that), or the whole screen. Undefined when the needle cannot fit at all.
 */
export function searchArea(
  screen: { width: number; height: number },
  needle: { width: number; height: number },
  region?: Region,
  margin = 0,
): SearchArea | undefined {
  const maxX = screen.width - needle.width;
  const maxY = screen.height - needle.height;
  if (maxX < 0 || maxY < 0) return undefined;
  if (!region) return { x0: 0, y0: 0, x1: maxX, y1: maxY };
  const x0 = Math.max(0, region.x - margin);
  const y0 = Math.max(0, region.y - margin);
  const x1 = Math.min(maxX, region.x + Math.max(region.width, needle.width) - needle.width + margin);
  const y1 = Math.min(maxY, region.y + Math.max(region.height, needle.height) - needle.height + margin);
  if (x1 < x0 || y1 < y0) return undefined;
  return { x0, y0, x1, y1 };
}

/** Sum of squared differences at (x, y); stops early once above `limit`. */
function ssd(screen: RgbaImage, needle: Needle, x: number, y: number, limit: number): number {
  const s = screen.rgba;
  const n = needle.rgba;
  const runs = needle.runs;
  const sw = screen.width;
  const nw = needle.width;
  let sum = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const row = runs[r];
    const start = runs[r + 1];
    const len = runs[r + 2];
    let si = ((y + row) * sw + x + start) * 4;
    let ni = (row * nw + start) * 4;
    for (let k = 0; k < len; k++, si += 4, ni += 4) {
      const dr = s[si] - n[ni];
      const dg = s[si + 1] - n[ni + 1];
      const db = s[si + 2] - n[ni + 2];
      sum += dr * dr + dg * dg + db * db;
    }
    if (sum > limit) return sum;
  }
  return sum;
}

export function similarityFromSsd(sum: number, count: number): number {
  if (count === 0) return 0;
  return Math.max(0, 1 - Math.sqrt(sum / (3 * count)) / 255);
}

export function similarityAt(screen: RgbaImage, needle: Needle, x: number, y: number): number {
  return similarityFromSsd(ssd(screen, needle, x, y, Infinity), needle.count);
}

export interface FindOptions {
  /** Tried first (usually the region's corner): a good early match speeds up the rest. */
  expected?: { x: number; y: number };
  /**
   * With a threshold, large searches stay exact for matches at or above it (pruned by a
   * sample of the reference's most distinctive pixels); only a below-threshold best, used
   * for error messages, may be approximate.
   */
  threshold?: number;
}

/** The best position in `area`. */
export function findBest(screen: RgbaImage, needle: Needle, area: SearchArea, options: FindOptions = {}): MatchResult {
  if (needle.count === 0) throw new Error('the reference has no scored pixels (all transparent or excluded)');
  const positions = (area.x1 - area.x0 + 1) * (area.y1 - area.y0 + 1);
  const result = (b: Scored) => ({ x: b.x, y: b.y, similarity: similarityFromSsd(b.sum, needle.count) });
  if (positions * needle.count <= EXHAUSTIVE_BUDGET) return result(exhaustive(screen, needle, area, options.expected));
  const factor = Math.min(8, Math.floor(Math.min(needle.width, needle.height) / 4));
  const approx = factor >= 2 ? coarseToFine(screen, needle, area, factor) : exhaustive(screen, needle, area, options.expected);
  if (approx.sum === 0 || options.threshold === undefined) return result(approx);
  // the coarse pass can miss on busy screens (text): make sure nothing better reaches the threshold
  const exact = thresholdSearch(screen, needle, area, Math.min(approx.sum, ssdLimit(options.threshold, needle.count)));
  return result(exact ?? approx);
}

/** The largest sum of squared differences that still reaches `threshold`. */
export function ssdLimit(threshold: number, count: number): number {
  const rms = 255 * (1 - threshold);
  return 3 * count * rms * rms;
}

/** Pixels used to reject wrong positions cheaply: the most distinctive ones, spread out. */
const SAMPLE_SIZE = 48;

function samplePixels(needle: Needle): number[] {
  const pixels: number[] = [];
  forEachPixel(needle.runs, needle.width, (p) => pixels.push(p));
  const mean = [0, 0, 0];
  for (const p of pixels) for (let c = 0; c < 3; c++) mean[c] += needle.rgba[p * 4 + c] / pixels.length;
  const distance = (p: number) => Math.abs(needle.rgba[p * 4] - mean[0]) + Math.abs(needle.rgba[p * 4 + 1] - mean[1]) + Math.abs(needle.rgba[p * 4 + 2] - mean[2]);
  const distinct = [...pixels].sort((a, b) => distance(b) - distance(a)).slice(0, Math.max(SAMPLE_SIZE, pixels.length >> 2));
  distinct.sort((a, b) => a - b); // raster order, so even spacing spreads them over the reference
  const step = Math.max(1, distinct.length / SAMPLE_SIZE);
  const sample: number[] = [];
  for (let i = 0; i < distinct.length && sample.length < SAMPLE_SIZE; i += step) sample.push(distinct[Math.floor(i)]);
  return sample;
}

/** Exact search for the best position whose SSD is within `limit`, skipping most positions after a few pixels. */
function thresholdSearch(screen: RgbaImage, needle: Needle, area: SearchArea, limit: number): Scored | undefined {
  const sample = samplePixels(needle);
  const s = screen.rgba;
  const n = needle.rgba;
  const offsets = sample.map((p) => ((Math.floor(p / needle.width) * screen.width) + (p % needle.width)) * 4);
  const values = sample.map((p) => p * 4);
  let best: Scored | undefined;
  let bound = limit;
  for (let y = area.y0; y <= area.y1; y++) {
    for (let x = area.x0; x <= area.x1; x++) {
      const base = (y * screen.width + x) * 4;
      let sum = 0;
      for (let k = 0; k < offsets.length && sum <= bound; k++) {
        const si = base + offsets[k];
        const ni = values[k];
        const dr = s[si] - n[ni];
        const dg = s[si + 1] - n[ni + 1];
        const db = s[si + 2] - n[ni + 2];
        sum += dr * dr + dg * dg + db * db;
      }
      if (sum > bound) continue;
      const full = ssd(screen, needle, x, y, bound);
      if (full <= bound) {
        best = { x, y, sum: full };
        bound = full;
      }
    }
  }
  return best;
}

interface Scored {
  x: number;
  y: number;
  sum: number;
}

function exhaustive(screen: RgbaImage, needle: Needle, area: SearchArea, expected?: { x: number; y: number }, start?: Scored): Scored {
  let best: Scored = start ?? { x: area.x0, y: area.y0, sum: Infinity };
  const visit = (x: number, y: number) => {
    const sum = ssd(screen, needle, x, y, best.sum);
    if (sum < best.sum) best = { x, y, sum };
  };
  if (expected) {
    // nearest first: a good early match makes every later position exit after a row or two
    const order: Array<[number, number, number]> = [];
    for (let y = area.y0; y <= area.y1; y++)
      for (let x = area.x0; x <= area.x1; x++) order.push([(x - expected.x) ** 2 + (y - expected.y) ** 2, x, y]);
    order.sort((a, b) => a[0] - b[0]);
    for (const [, x, y] of order) visit(x, y);
  } else {
    for (let y = area.y0; y <= area.y1; y++) for (let x = area.x0; x <= area.x1; x++) visit(x, y);
  }
  return best;
}

function coarseToFine(screen: RgbaImage, needle: Needle, area: SearchArea, f: number): Scored {
  const smallScreen = downscale(screen, f);
  const smallNeedle = downscaleNeedle(needle, f);
  if (smallNeedle.count === 0) return exhaustive(screen, needle, area);
  const cArea: SearchArea = {
    x0: Math.floor(area.x0 / f),
    y0: Math.floor(area.y0 / f),
    x1: Math.min(smallScreen.width - smallNeedle.width, Math.ceil(area.x1 / f)),
    y1: Math.min(smallScreen.height - smallNeedle.height, Math.ceil(area.y1 / f)),
  };
  const top: Scored[] = [];
  for (let y = cArea.y0; y <= cArea.y1; y++) {
    for (let x = cArea.x0; x <= cArea.x1; x++) {
      const limit = top.length < COARSE_CANDIDATES ? Infinity : top[top.length - 1].sum;
      const sum = ssd(smallScreen, smallNeedle, x, y, limit);
      if (sum < limit) insertSorted(top, { x, y, sum }, COARSE_CANDIDATES);
    }
  }
  let best: Scored = { x: area.x0, y: area.y0, sum: Infinity };
  for (const c of top) {
    const around: SearchArea = {
      x0: Math.max(area.x0, c.x * f - f),
      y0: Math.max(area.y0, c.y * f - f),
      x1: Math.min(area.x1, c.x * f + f),
      y1: Math.min(area.y1, c.y * f + f),
    };
    if (around.x1 < around.x0 || around.y1 < around.y0) continue;
    best = exhaustive(screen, needle, around, { x: c.x * f, y: c.y * f }, best);
  }
  return best;
}

function insertSorted(list: Scored[], item: Scored, max: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1].sum > item.sum) i--;
  list.splice(i, 0, item);
  if (list.length > max) list.pop();
}

/** Box average by `f` (partial edge blocks dropped). */
export function downscale(image: RgbaImage, f: number): RgbaImage {
  const width = Math.floor(image.width / f);
  const height = Math.floor(image.height / f);
  const out = new Uint8Array(width * height * 4);
  const acc = new Uint32Array(width * 3);
  const area = f * f;
  for (let by = 0; by < height; by++) {
    acc.fill(0);
    for (let dy = 0; dy < f; dy++) {
      let i = ((by * f + dy) * image.width) * 4;
      for (let bx = 0; bx < width; bx++) {
        for (let dx = 0; dx < f; dx++, i += 4) {
          acc[bx * 3] += image.rgba[i];
          acc[bx * 3 + 1] += image.rgba[i + 1];
          acc[bx * 3 + 2] += image.rgba[i + 2];
        }
      }
    }
    for (let bx = 0; bx < width; bx++) {
      const o = (by * width + bx) * 4;
      out[o] = Math.round(acc[bx * 3] / area);
      out[o + 1] = Math.round(acc[bx * 3 + 1] / area);
      out[o + 2] = Math.round(acc[bx * 3 + 2] / area);
      out[o + 3] = 255;
    }
  }
  return { width, height, rgba: out };
}

/** Downscale averaging scored pixels only; a block counts if at least half of it is scored. */
function downscaleNeedle(needle: Needle, f: number): Needle {
  const scored = new Uint8Array(needle.width * needle.height);
  const r = needle.runs;
  for (let k = 0; k < r.length; k += 3) scored.fill(1, r[k] * needle.width + r[k + 1], r[k] * needle.width + r[k + 1] + r[k + 2]);
  const width = Math.floor(needle.width / f);
  const height = Math.floor(needle.height / f);
  const out = new Uint8Array(width * height * 4);
  const keep = new Uint8Array(width * height);
  for (let by = 0; by < height; by++) {
    for (let bx = 0; bx < width; bx++) {
      let n = 0, rs = 0, gs = 0, bs = 0;
      for (let dy = 0; dy < f; dy++) {
        for (let dx = 0; dx < f; dx++) {
          const p = (by * f + dy) * needle.width + bx * f + dx;
          if (!scored[p]) continue;
          n++;
          rs += needle.rgba[p * 4];
          gs += needle.rgba[p * 4 + 1];
          bs += needle.rgba[p * 4 + 2];
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
