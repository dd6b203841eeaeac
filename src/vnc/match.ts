/**
 * Finding a needle (see needle.ts) on the screen.
 *
 * Score: similarity = 1 − RMS(channel difference) / 255 over the scored pixels of the
 * reference (R, G and B; alpha ignored). 1 is pixel-exact; a uniform ±10 colour shift
 * scores ~0.96; a changed word in a small needle typically drops below 0.8. RMS rather
 * than mean absolute difference so that a few strongly differing pixels (changed text)
 * count more than a faint shade change everywhere.
 *
 * Search: exhaustive when cheap (with early exit, nearest-to-expected first), else
 * coarse-to-fine: box-downscale screen and needle by f, keep the best few coarse
 * positions, refine each at full resolution within ±f pixels.
 */
import { UsageError } from '../errors.js';
import type { Point, Region, Size } from '../geometry.js';
import { distinctness, downscaleNeedle, meanColour, scoredPixels, type Needle, type RgbaImage } from './needle.js';

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

/**
 * Where the needle's top-left may be: `region` grown by `margin` (the needle must fit
 * inside that), or the whole screen. Undefined when the needle cannot fit at all.
 */
export function searchArea(screen: Size, needle: Size, region?: Region, margin = 0): SearchArea | undefined {
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

/** Squared R, G and B difference between pixel byte offsets `si` of `s` and `ni` of `n`. */
function pixelSsd(s: Uint8Array, si: number, n: Uint8Array, ni: number): number {
  const dr = (s[si] ?? 0) - (n[ni] ?? 0);
  const dg = (s[si + 1] ?? 0) - (n[ni + 1] ?? 0);
  const db = (s[si + 2] ?? 0) - (n[ni + 2] ?? 0);
  return dr * dr + dg * dg + db * db;
}

/** Sum of squared differences at (x, y); stops early once above `limit`. */
function ssd(screen: RgbaImage, needle: Needle, x: number, y: number, limit: number): number {
  const { runs } = needle;
  let sum = 0;
  for (let r = 0; r + 2 < runs.length && sum <= limit; r += 3) {
    const row = runs[r] ?? 0;
    const start = runs[r + 1] ?? 0;
    const len = runs[r + 2] ?? 0;
    let si = ((y + row) * screen.width + x + start) * 4;
    let ni = (row * needle.width + start) * 4;
    for (let k = 0; k < len; k++, si += 4, ni += 4) sum += pixelSsd(screen.rgba, si, needle.rgba, ni);
  }
  return sum;
}

function similarityFromSsd(sum: number, count: number): number {
  if (count === 0) return 0;
  return Math.max(0, 1 - Math.sqrt(sum / (3 * count)) / 255);
}

export function similarityAt(screen: RgbaImage, needle: Needle, x: number, y: number): number {
  return similarityFromSsd(ssd(screen, needle, x, y, Infinity), needle.count);
}

export interface FindOptions {
  /** Tried first (usually the region's corner): a good early match speeds up the rest. */
  expected?: Point;
  /**
   * With a threshold, large searches stay exact for matches at or above it (pruned by a
   * sample of the reference's most distinctive pixels); only a below-threshold best, used
   * for error messages, may be approximate.
   */
  threshold?: number;
}

/** The best position in `area`. */
export function findBest(screen: RgbaImage, needle: Needle, area: SearchArea, options: FindOptions = {}): MatchResult {
  if (needle.count === 0) {
    throw new UsageError('the reference image has no scored pixels (all transparent or excluded)', 'exclude less of it, or give it opaque pixels');
  }
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
function ssdLimit(threshold: number, count: number): number {
  const rms = 255 * (1 - threshold);
  return 3 * count * rms * rms;
}

/** Pixels used to reject wrong positions cheaply: the most distinctive ones, spread out. */
const SAMPLE_SIZE = 48;

function samplePixels(needle: Needle): number[] {
  const pixels = scoredPixels(needle);
  const distance = distinctness(needle.rgba, meanColour(needle.rgba, pixels));
  const distinct = [...pixels].sort((a, b) => distance(b) - distance(a)).slice(0, Math.max(SAMPLE_SIZE, pixels.length >> 2));
  distinct.sort((a, b) => a - b); // raster order, so even spacing spreads them over the reference
  const step = Math.max(1, distinct.length / SAMPLE_SIZE);
  const sample: number[] = [];
  for (let i = 0; i < distinct.length && sample.length < SAMPLE_SIZE; i += step) {
    const p = distinct[Math.floor(i)];
    if (p !== undefined) sample.push(p);
  }
  return sample;
}

/** Exact search for the best position whose SSD is within `limit`, skipping most positions after a few pixels. */
function thresholdSearch(screen: RgbaImage, needle: Needle, area: SearchArea, limit: number): Scored | undefined {
  // byte offsets of the sample pixels: relative to the needle's top-left on screen, and in the needle
  const sample = samplePixels(needle).map((p) => ({
    screen: (Math.floor(p / needle.width) * screen.width + (p % needle.width)) * 4,
    needle: p * 4,
  }));
  let best: Scored | undefined;
  let bound = limit;
  for (let y = area.y0; y <= area.y1; y++) {
    for (let x = area.x0; x <= area.x1; x++) {
      const base = (y * screen.width + x) * 4;
      let sum = 0;
      for (const offset of sample) {
        sum += pixelSsd(screen.rgba, base + offset.screen, needle.rgba, offset.needle);
        if (sum > bound) break;
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

function exhaustive(screen: RgbaImage, needle: Needle, area: SearchArea, expected?: Point, start?: Scored): Scored {
  let best: Scored = start ?? { x: area.x0, y: area.y0, sum: Infinity };
  const visit = (x: number, y: number) => {
    const sum = ssd(screen, needle, x, y, best.sum);
    if (sum < best.sum) best = { x, y, sum };
  };
  if (expected) {
    // nearest first: a good early match makes every later position exit after a row or two
    const order: Array<{ distance: number; x: number; y: number }> = [];
    for (let y = area.y0; y <= area.y1; y++)
      for (let x = area.x0; x <= area.x1; x++) order.push({ distance: (x - expected.x) ** 2 + (y - expected.y) ** 2, x, y });
    order.sort((a, b) => a.distance - b.distance);
    for (const { x, y } of order) visit(x, y);
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
      const worst = top.length < COARSE_CANDIDATES ? undefined : top[top.length - 1];
      const limit = worst?.sum ?? Infinity;
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

/** Inserts `item` into `list` (sorted by sum, ascending) and keeps at most `max` items. */
function insertSorted(list: Scored[], item: Scored, max: number): void {
  const at = list.findIndex((s) => s.sum > item.sum);
  list.splice(at < 0 ? list.length : at, 0, item);
  if (list.length > max) list.pop();
}

/** Box average by `f` (partial edge blocks dropped). */
function downscale(image: RgbaImage, f: number): RgbaImage {
  const width = Math.floor(image.width / f);
  const height = Math.floor(image.height / f);
  const out = new Uint8Array(width * height * 4);
  const acc = new Uint32Array(width * 3);
  const area = f * f;
  for (let by = 0; by < height; by++) {
    acc.fill(0);
    for (let dy = 0; dy < f; dy++) {
      let i = (by * f + dy) * image.width * 4;
      for (let bx = 0; bx < width; bx++) {
        for (let dx = 0; dx < f; dx++, i += 4) {
          for (let c = 0; c < 3; c++) acc[bx * 3 + c] = (acc[bx * 3 + c] ?? 0) + (image.rgba[i + c] ?? 0);
        }
      }
    }
    for (let bx = 0; bx < width; bx++) {
      const o = (by * width + bx) * 4;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round((acc[bx * 3 + c] ?? 0) / area);
      out[o + 3] = 255;
    }
  }
  return { width, height, rgba: out };
}
