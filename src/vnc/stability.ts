/**
 * Telling real screen changes from a blinking cursor. A VGA text console (and many
 * terminals) toggles its cursor about twice a second, so "unchanged for 1 s" would never
 * happen and "changed" would always happen at once.
 *
 * - Stable: a change back to the state just before (A→B→A) is a blink and does not restart
 *   the clock; any other change does.
 * - Changed: a large change counts at once; a small one (≤ BLINK_BOX px square) only if it
 *   does not flip back to the starting picture within BLINK_WINDOW_MS.
 */
import type { Frame } from '../frames.js';

export const BLINK_WINDOW_MS = 1000;
const BLINK_BOX = 64;

/** Equal, or differing in at most `ignorePixels` pixels. */
function same(a: Frame, b: Frame, ignorePixels = 0): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  if (ignorePixels <= 0) return a.rgba.equals(b.rgba);
  let differing = 0;
  for (let i = 0; i < a.rgba.length; i += 4) {
    if (a.rgba[i] !== b.rgba[i] || a.rgba[i + 1] !== b.rgba[i + 1] || a.rgba[i + 2] !== b.rgba[i + 2]) {
      if (++differing > ignorePixels) return false;
    }
  }
  return true;
}

/** Bounding box of the pixels that differ (undefined when identical or sizes differ). */
export function diffBox(a: Frame, b: Frame): { x: number; y: number; width: number; height: number } | undefined {
  if (a.width !== b.width || a.height !== b.height) return undefined;
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -1,
    y1 = -1;
  const w = a.width;
  for (let y = 0; y < a.height; y++) {
    const row = y * w * 4;
    if (a.rgba.compare(b.rgba, row, row + w * 4, row, row + w * 4) === 0) continue;
    for (let x = 0; x < w; x++) {
      const i = row + x * 4;
      if (a.rgba.readUInt32LE(i) !== b.rgba.readUInt32LE(i)) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
    if (y < y0) y0 = y;
    y1 = y;
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

export class StabilityTracker {
  private current: Frame;
  private previous?: Frame;
  private since: number;
  changes = 0;

  /** ignorePixels: changes of at most this many pixels don't count at all. */
  constructor(
    initial: Frame,
    now: number,
    private readonly ignorePixels = 0,
  ) {
    this.current = initial;
    this.since = now;
  }

  observe(frame: Frame, now: number): void {
    if (same(frame, this.current, this.ignorePixels)) return;
    const toggledBack = this.previous !== undefined && same(frame, this.previous);
    this.previous = this.current;
    this.current = frame;
    if (toggledBack) return;
    this.since = now;
    this.changes++;
  }

  /** ms since the last change that was not a blink. */
  stableFor(now: number): number {
    return now - this.since;
  }
}

export class ChangeDetector {
  private readonly blinks: Frame[] = [];
  private pending?: { frame: Frame; since: number };

  constructor(private readonly initial: Frame) {}

  /** True once the screen has really changed. */
  observe(frame: Frame, now: number): boolean {
    if (same(frame, this.initial) || this.blinks.some((b) => same(frame, b))) {
      // flipped back: what we were unsure about was a blink
      if (this.pending) this.blinks.push(this.pending.frame);
      this.pending = undefined;
      return false;
    }
    if (this.pending) {
      if (same(frame, this.pending.frame)) return now - this.pending.since >= BLINK_WINDOW_MS;
      return true; // a third picture: more than a blink
    }
    const box = diffBox(this.initial, frame);
    if (box && box.width <= BLINK_BOX && box.height <= BLINK_BOX) {
      this.pending = { frame, since: now };
      return false;
    }
    return true;
  }

  /** When observe() would turn true with no further update, if it can. */
  decidesAt(): number | undefined {
    return this.pending ? this.pending.since + BLINK_WINDOW_MS : undefined;
  }
}
