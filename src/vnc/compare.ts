/**
 * Whole-screenshot comparison, as Playwright's toHaveScreenshot does it for pages: a per-pixel
 * colour threshold (pixelmatch), then a budget of differing pixels (maxDiffPixels /
 * maxDiffPixelRatio). Masks are painted the same colour on both images first, so what is under
 * them never counts. Needle matching (a small reference searched within a margin) is elsewhere.
 */
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { UsageError } from '../errors.js';
import type { Region } from '../geometry.js';

export interface ScreenshotCompareOptions {
  /** Per-pixel colour distance that still counts as equal, 0..1 (pixelmatch's YIQ distance). Default 0.2. */
  threshold?: number;
  /** How many pixels may differ. */
  maxDiffPixels?: number;
  /** Which share of all pixels may differ, 0..1. With maxDiffPixels too, the stricter wins. */
  maxDiffPixelRatio?: number;
  /** Rectangles painted over on both images before comparing (clocks, blinking cursors). */
  mask?: Region[];
  /** Mask paint, '#rrggbb'; default Playwright's '#FF00FF'. */
  maskColor?: string;
}

export interface ScreenshotComparison {
  pass: boolean;
  /** Pixels over the colour threshold (0 when the sizes differ: nothing was compared). */
  diffPixels: number;
  diffRatio: number;
  /** The budget the options allow. */
  allowedPixels: number;
  width: number;
  height: number;
  /** Set when the images differ in size. */
  sizeMismatch?: { expected: { width: number; height: number }; actual: { width: number; height: number } };
  /** PNG: the expected image faded, differing pixels in red. Absent when the images match exactly or differ in size. */
  diff?: Buffer;
}

const DEFAULT_SCREENSHOT_THRESHOLD = 0.2;
const DEFAULT_MASK_COLOR = '#FF00FF';

export function validateCompareOptions(o: ScreenshotCompareOptions): void {
  if (o.maxDiffPixels !== undefined && !(o.maxDiffPixels >= 0)) {
    throw new UsageError(`maxDiffPixels must be a non-negative number, got ${o.maxDiffPixels}`);
  }
  if (o.maxDiffPixelRatio !== undefined && !(o.maxDiffPixelRatio >= 0 && o.maxDiffPixelRatio <= 1)) {
    throw new UsageError(`maxDiffPixelRatio must be between 0 and 1, got ${o.maxDiffPixelRatio}`);
  }
  if (o.threshold !== undefined && !(o.threshold >= 0 && o.threshold <= 1)) {
    throw new UsageError(`threshold must be between 0 and 1, got ${o.threshold}`);
  }
  parseColor(o.maskColor ?? DEFAULT_MASK_COLOR);
}

/** The pixel budget: Playwright's rule (both given: the stricter; neither: 0). */
export function allowedDiffPixels(width: number, height: number, o: ScreenshotCompareOptions): number {
  const byCount = o.maxDiffPixels;
  const byRatio = o.maxDiffPixelRatio !== undefined ? width * height * o.maxDiffPixelRatio : undefined;
  if (byCount !== undefined && byRatio !== undefined) return Math.min(byCount, byRatio);
  return byCount ?? byRatio ?? 0;
}

/** Compare two PNGs. Masks are applied to copies; the inputs are not changed. */
export function compareScreenshots(expectedPng: Buffer, actualPng: Buffer, options: ScreenshotCompareOptions = {}): ScreenshotComparison {
  validateCompareOptions(options);
  const expected = decode(expectedPng, 'expected');
  const actual = decode(actualPng, 'actual');
  if (expected.width !== actual.width || expected.height !== actual.height) {
    return {
      pass: false,
      diffPixels: 0,
      diffRatio: 1,
      allowedPixels: 0,
      width: actual.width,
      height: actual.height,
      sizeMismatch: { expected: size(expected), actual: size(actual) },
    };
  }
  const { width, height } = actual;
  paintBoxes(expected, options.mask ?? [], options.maskColor);
  paintBoxes(actual, options.mask ?? [], options.maskColor);
  const diff = new PNG({ width, height });
  const diffPixels = pixelmatch(expected.data, actual.data, diff.data, width, height, {
    threshold: options.threshold ?? DEFAULT_SCREENSHOT_THRESHOLD,
  });
  const allowedPixels = allowedDiffPixels(width, height, options);
  return {
    pass: diffPixels <= allowedPixels,
    diffPixels,
    diffRatio: diffPixels / (width * height),
    allowedPixels,
    width,
    height,
    diff: diffPixels > 0 ? PNG.sync.write(diff) : undefined,
  };
}

/** A copy of `png` with the boxes painted over (what a masked screenshot looks like). */
export function maskScreenshot(png: Buffer, mask: Region[], color = DEFAULT_MASK_COLOR): Buffer {
  if (mask.length === 0) return png;
  const img = decode(png, 'screenshot');
  paintBoxes(img, mask, color);
  return PNG.sync.write(img);
}

/** Moves boxes given in screen coordinates into the coordinates of a clip. */
export function boxesRelativeTo(boxes: Region[], clip: Region | undefined): Region[] {
  if (!clip) return boxes;
  return boxes.map((b) => ({ ...b, x: b.x - clip.x, y: b.y - clip.y }));
}

function paintBoxes(img: PNG, boxes: Region[], color = DEFAULT_MASK_COLOR): void {
  const [r, g, b] = parseColor(color);
  for (const box of boxes) {
    const x0 = Math.max(0, Math.floor(box.x));
    const y0 = Math.max(0, Math.floor(box.y));
    const x1 = Math.min(img.width, Math.ceil(box.x + box.width));
    const y1 = Math.min(img.height, Math.ceil(box.y + box.height));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * img.width + x) * 4;
        img.data[i] = r;
        img.data[i + 1] = g;
        img.data[i + 2] = b;
        img.data[i + 3] = 255;
      }
    }
  }
}

function decode(png: Buffer, what: string): PNG {
  try {
    return PNG.sync.read(png);
  } catch (e) {
    throw new UsageError(`the ${what} image is not a readable PNG: ${(e as Error).message}`, 'pass PNG files (screenshots are PNGs)');
  }
}

function size(img: PNG): { width: number; height: number } {
  return { width: img.width, height: img.height };
}

function parseColor(color: string): [number, number, number] {
  const [, r, g, b] = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color) ?? [];
  if (r === undefined || g === undefined || b === undefined) throw new UsageError(`mask colour ${JSON.stringify(color)} is not '#rrggbb'`);
  return [parseInt(r, 16), parseInt(g, 16), parseInt(b, 16)];
}
