/**
 * Looking at the guest: screenshots, reference-image matching (openQA needles), waiting
 * for the screen to settle or change, and OCR. Everything reads the client's mirror,
 * which is always current, so nothing here asks the server for pixels.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import pixelmatch from 'pixelmatch';
import { TimeoutError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { Frame } from '../frames.js';
import { defaultTimeout, sleep } from '../timeouts.js';
import type { VncClient } from './client.js';
import { ScreenMatchTimeoutError } from './errors.js';
import { cropFrame, decodeImage, encodePng, sideBySide } from './image.js';
import { findBest, makeNeedle, searchArea, type Needle } from './match.js';
import { recognise } from './ocr.js';
import { ChangeDetector, StabilityTracker } from './stability.js';
import { clipRegion } from './region.js';
import type { Region } from '../geometry.js';



export interface ScreenMatch {
  /** Top-left corner of the match on screen. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** 0..1, 1 = pixel-exact (1 − RMS channel difference / 255). */
  similarity: number;
}

export interface MatchOptions {
  /** Where the reference is expected (its top-left at region.x/y); searched within `margin`. Default: whole screen. */
  region?: Region;
  /** Areas to ignore, in REFERENCE coordinates (0,0 = the reference's top-left). Transparent reference pixels are ignored too. */
  exclude?: Region[];
  /** Minimum similarity. Default 0.95. */
  threshold?: number;
  /** Pixels the match may sit away from `region`. Default 50. */
  margin?: number;
}

export const DEFAULT_THRESHOLD = 0.95;
export const DEFAULT_MARGIN = 50;
export const DEFAULT_STABLE_MS = 1000;
/** Don't re-run matching or OCR more often than this on a busy screen. */
const MIN_RECHECK_MS = 50;

interface Best {
  similarity: number;
  x: number;
  y: number;
  version: number;
}

export class Screen {
  private readonly log: Logger;
  private readonly artifactsDir: () => string;

  constructor(
    private readonly client: VncClient,
    options: { artifactsDir: () => string; log?: Logger },
  ) {
    this.artifactsDir = options.artifactsDir;
    this.log = options.log ?? createLogger('screen');
  }

  /** PNG of the screen (or `clip`), from the mirror; also written to `path` when given. */
  async screenshot(options: { path?: string; clip?: Region } = {}): Promise<Buffer> {
    const png = await encodePng(this.capture(options.clip));
    if (options.path) {
      await mkdir(dirname(options.path), { recursive: true });
      await writeFile(options.path, png);
    }
    return png;
  }

  /** An RGBA copy of the screen or of `clip` (clipped to the screen). */
  capture(clip?: Region): Frame {
    const frame = this.client.frame();
    return cropFrame(frame, clipRegion(clip, frame));
  }

  async findImage(reference: string | Buffer, options: MatchOptions = {}): Promise<ScreenMatch | null> {
    const needle = makeNeedle(await decodeImage(reference), options.exclude);
    const best = this.bestMatch(needle, options);
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    return best && best.similarity >= threshold ? toMatch(best, needle) : null;
  }

  /** Waits until the reference shows (similarity ≥ threshold). On timeout writes <name>-actual.png and <name>-diff.png. */
  async waitForScreen(reference: string | Buffer, options: MatchOptions & { timeout?: number } = {}): Promise<ScreenMatch> {
    const timeout = options.timeout ?? defaultTimeout('screen');
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    const image = await decodeImage(reference);
    const needle = makeNeedle(image, options.exclude);
    const deadline = Date.now() + timeout;
    let best: Best | undefined;
    await this.eachVersion(deadline, () => {
      const m = this.bestMatch(needle, options);
      if (m && (!best || m.similarity > best.similarity)) best = m;
      return !!m && m.similarity >= threshold;
    });
    if (best && best.similarity >= threshold) {
      this.log.debug('screen-match', { reference: nameOf(reference), ...best });
      return toMatch(best, needle);
    }
    throw await this.matchTimeout(reference, image, needle, best, threshold, timeout);
  }

  /**
   * Waits until the content (not just the update counter) stays unchanged for `duration`
   * ms. A blinking cursor (the picture flipping back to the one before) doesn't count.
   * `ignorePixels`: changes of at most this many pixels don't count either.
   */
  async waitForStableScreen(options: { duration?: number; timeout?: number; region?: Region; ignorePixels?: number } = {}): Promise<void> {
    const duration = options.duration ?? DEFAULT_STABLE_MS;
    const timeout = options.timeout ?? defaultTimeout('stable');
    const deadline = Date.now() + timeout;
    const tracker = new StabilityTracker(this.capture(options.region), Date.now(), options.ignorePixels);
    let version = this.client.version;
    for (;;) {
      const now = Date.now();
      const stable = tracker.stableFor(now);
      if (stable >= duration) return;
      if (now >= deadline) {
        throw new TimeoutError(`the screen staying unchanged for ${duration} ms`, timeout, {
          hint: `it changed ${tracker.changes} times, last ${stable} ms ago (a clock or animation? pass a region that excludes it)`,
        });
      }
      version = await this.nextVersion(version, Math.min(now + duration - stable, deadline) - now);
      tracker.observe(this.capture(options.region), Date.now());
    }
  }

  /**
   * Waits until the content differs from when called. A small change that flips back
   * within a second (a blinking cursor) doesn't count; small real changes are therefore
   * reported up to a second late.
   */
  async waitForScreenChange(options: { timeout?: number; region?: Region } = {}): Promise<void> {
    const timeout = options.timeout ?? defaultTimeout('stable');
    const detector = new ChangeDetector(this.capture(options.region));
    const deadline = Date.now() + timeout;
    let version = this.client.version;
    for (;;) {
      if (detector.observe(this.capture(options.region), Date.now())) return;
      const now = Date.now();
      if (now >= deadline) break;
      version = await this.nextVersion(version, Math.min(detector.decidesAt() ?? deadline, deadline) - now);
    }
    throw new TimeoutError('a change on screen', timeout, { hint: options.region ? 'nothing changed inside the region' : undefined });
  }

  async ocr(options: { region?: Region } = {}): Promise<string> {
    return recognise(this.capture(options.region));
  }

  /** OCR until `pattern` matches (a string matches as a plain substring). */
  async waitForText(pattern: RegExp | string, options: { region?: Region; timeout?: number } = {}): Promise<{ text: string; match: RegExpMatchArray }> {
    const timeout = options.timeout ?? defaultTimeout('text');
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const deadline = Date.now() + timeout;
    let text = '';
    let match: RegExpMatchArray | null = null;
    await this.eachVersion(deadline, async () => {
      text = await this.ocr(options);
      match = text.match(re);
      return !!match;
    });
    if (match) return { text, match };
    throw new TimeoutError(`text ${re} on screen`, timeout, {
      hint: `last text read: ${JSON.stringify(text.length > 500 ? text.slice(0, 500) + '…' : text)}`,
    });
  }

  // ---- internals -------------------------------------------------------------------

  /**
   * Runs `check` now and after every mirror change until it returns true or the deadline
   * passes. A dropped connection just means no updates for a while: the client reconnects.
   */
  private async eachVersion(deadline: number, check: () => boolean | Promise<boolean>): Promise<void> {
    let version = this.client.version;
    for (;;) {
      const started = Date.now();
      if (await check()) return;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return;
      const next = await this.nextVersion(version, remaining);
      if (next === version) return; // timed out
      version = next;
      const pause = MIN_RECHECK_MS - (Date.now() - started);
      if (pause > 0 && deadline - Date.now() > pause) await sleep(pause);
    }
  }

  /** The next version, or the same one when `ms` passed without an update. */
  private async nextVersion(version: number, ms: number): Promise<number> {
    if (ms <= 0) return this.client.version;
    try {
      return await this.client.waitForUpdate(version, ms);
    } catch (err) {
      if (err instanceof TimeoutError) return this.client.version;
      throw err;
    }
  }

  private bestMatch(needle: Needle, options: MatchOptions): Best | undefined {
    const frame = this.client.frame();
    const area = searchArea(frame, needle, options.region, options.margin ?? DEFAULT_MARGIN);
    if (!area) return undefined;
    const m = findBest(frame, needle, area, { expected: options.region, threshold: options.threshold ?? DEFAULT_THRESHOLD });
    return { ...m, version: this.client.version };
  }

  private async matchTimeout(
    reference: string | Buffer,
    image: Frame,
    needle: Needle,
    best: Best | undefined,
    threshold: number,
    timeout: number,
  ): Promise<ScreenMatchTimeoutError> {
    const name = nameOf(reference);
    const screen = this.capture();
    let actualPath: string | undefined;
    let diffPath: string | undefined;
    try {
      const dir = this.artifactsDir();
      await mkdir(dir, { recursive: true });
      const stem = await freeStem(dir, name);
      actualPath = join(dir, `${stem}-actual.png`);
      await writeFile(actualPath, await encodePng(screen));
      if (best) {
        diffPath = join(dir, `${stem}-diff.png`);
        await writeFile(diffPath, await encodePng(diffImage(screen, image, needle, best)));
      }
    } catch (err) {
      this.log.warn('artifact-write-failed', { error: err });
    }
    const where = best ? `${best.similarity.toFixed(3)} at ${best.x},${best.y}` : 'none (the reference is larger than the screen or search region)';
    return new ScreenMatchTimeoutError(
      `reference ${name} (${needle.width}x${needle.height}) did not appear on screen within ${Math.round(timeout)} ms: best similarity ${where}, needed ${threshold}`,
      {
        bestSimilarity: best?.similarity ?? 0,
        bestAt: best ? { x: best.x, y: best.y } : undefined,
        actualPath,
        diffPath,
        hint: actualPath ? `see ${actualPath} and ${diffPath ?? '(no diff)'}` : undefined,
      },
    );
  }
}

function toMatch(best: Best, needle: Needle): ScreenMatch {
  return { x: best.x, y: best.y, width: needle.width, height: needle.height, similarity: best.similarity };
}

function nameOf(reference: string | Buffer): string {
  return typeof reference === 'string' ? basename(reference, extname(reference)) : 'screen';
}

/** `name`, or name-2, name-3... so a second failure doesn't overwrite the first. */
async function freeStem(dir: string, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const stem = i === 1 ? name : `${name}-${i}`;
    const taken = await stat(join(dir, `${stem}-actual.png`)).then(() => true, () => false);
    if (!taken) return stem;
  }
}

/** [reference | screen at the best spot | pixelmatch diff], ignored pixels blanked in both. */
function diffImage(screen: Frame, reference: Frame, needle: Needle, best: Best): Frame {
  const actual = cropFrame(screen, { x: best.x, y: best.y, width: reference.width, height: reference.height });
  const expected: Frame = { ...reference, rgba: Buffer.from(reference.rgba) };
  const scored = new Uint8Array(reference.width * reference.height);
  const r = needle.runs;
  for (let k = 0; k < r.length; k += 3) scored.fill(1, r[k] * reference.width + r[k + 1], r[k] * reference.width + r[k + 1] + r[k + 2]);
  for (let p = 0; p < scored.length; p++) {
    if (scored[p]) continue;
    expected.rgba.writeUInt32BE(0x00000000, p * 4);
    actual.rgba.writeUInt32BE(0x00000000, p * 4);
  }
  const diff: Frame = { width: reference.width, height: reference.height, rgba: Buffer.alloc(reference.width * reference.height * 4) };
  pixelmatch(expected.rgba, actual.rgba, diff.rgba, reference.width, reference.height, { threshold: 0.1 });
  return sideBySide([expected, actual, diff]);
}
