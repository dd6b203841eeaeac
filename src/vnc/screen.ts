/**
 * Looking at the guest: screenshots, reference-image matching (openQA needles), waiting
 * for the screen to settle or change, and OCR. Everything reads the client's mirror,
 * which is always current, so nothing here asks the server for pixels.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TimeoutError } from '../errors.js';
import type { Frame } from '../frames.js';
import type { Region } from '../geometry.js';
import { createLogger, type Logger } from '../log.js';
import { Deadline, defaultTimeout, now, sleep } from '../timeouts.js';
import type { VncClient } from './client.js';
import { ScreenMatchTimeoutError } from './errors.js';
import { cropFrame, decodeImage } from './image.js';
import { findBest, searchArea } from './match.js';
import { referenceName, writeMatchArtifacts } from './match-artifacts.js';
import { makeNeedle, type Needle } from './needle.js';
import { recognise } from './ocr.js';
import { clipRegion } from './region.js';
import { screenPng } from './screen-png.js';
import { ChangeDetector, StabilityTracker } from './stability.js';

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

/** How long a screen wait may take, and a signal that ends it early (rejecting with the signal's reason). */
export interface WaitControl {
  timeout?: number;
  signal?: AbortSignal;
}

export const DEFAULT_THRESHOLD = 0.95;
const DEFAULT_MARGIN = 50;
const DEFAULT_STABLE_MS = 1000;
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

  /** PNG of the screen (or `clip`), from the mirror; also written to `path` when given. Matching and OCR read capture() instead: no PNG. */
  async screenshot(options: { path?: string; clip?: Region } = {}): Promise<Buffer> {
    const frame = this.client.frame();
    const png = await screenPng(frame, clipRegion(options.clip, frame));
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
  async waitForScreen(reference: string | Buffer, options: MatchOptions & WaitControl = {}): Promise<ScreenMatch> {
    const timeout = options.timeout ?? defaultTimeout('screen');
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    const image = await decodeImage(reference);
    const needle = makeNeedle(image, options.exclude);
    const deadline = new Deadline(timeout, `reference ${referenceName(reference)}`);
    let best: Best | undefined;
    await this.eachVersion(deadline, options.signal, () => {
      const m = this.bestMatch(needle, options);
      if (m && (!best || m.similarity > best.similarity)) best = m;
      return !!m && m.similarity >= threshold;
    });
    if (best && best.similarity >= threshold) {
      this.log.debug('screen-match', { reference: referenceName(reference), ...best });
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
    const deadline = new Deadline(timeout, `the screen staying unchanged for ${duration} ms`);
    const tracker = new StabilityTracker(this.capture(options.region), now(), options.ignorePixels);
    let version = this.client.version;
    for (;;) {
      const stable = tracker.stableFor(now());
      if (stable >= duration) return;
      if (deadline.expired()) {
        throw deadline.error(undefined, {
          hint: `it changed ${tracker.changes} times, last ${Math.round(stable)} ms ago (a clock or animation? pass a region that excludes it)`,
        });
      }
      version = await this.nextVersion(version, Math.min(duration - stable, deadline.remaining()));
      tracker.observe(this.capture(options.region), now());
    }
  }

  /**
   * Waits until the content differs from when called. A small change that flips back
   * within a second (a blinking cursor) doesn't count; small real changes are therefore
   * reported up to a second late.
   */
  async waitForScreenChange(options: { region?: Region } & WaitControl = {}): Promise<void> {
    const timeout = options.timeout ?? defaultTimeout('stable');
    const detector = new ChangeDetector(this.capture(options.region));
    const deadline = new Deadline(timeout, 'a change on screen');
    let version = this.client.version;
    while (!detector.observe(this.capture(options.region), now())) {
      if (deadline.expired()) throw deadline.error(undefined, { hint: options.region ? 'nothing changed inside the region' : undefined });
      const decidesIn = (detector.decidesAt() ?? Infinity) - now();
      version = await this.nextVersion(version, Math.min(decidesIn, deadline.remaining()), options.signal);
    }
  }

  async ocr(options: { region?: Region } = {}): Promise<string> {
    return recognise(this.capture(options.region));
  }

  /** OCR until `pattern` matches (a string matches as a plain substring). */
  async waitForText(pattern: RegExp | string, options: { region?: Region } & WaitControl = {}): Promise<{ text: string; match: RegExpMatchArray }> {
    const timeout = options.timeout ?? defaultTimeout('text');
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const deadline = new Deadline(timeout, `text ${re} on screen`);
    let text = '';
    let match: RegExpMatchArray | null = null;
    await this.eachVersion(deadline, options.signal, async () => {
      text = await this.ocr(options);
      match = text.match(re);
      return !!match;
    });
    if (match) return { text, match };
    throw deadline.error(undefined, {
      hint: `last text read: ${JSON.stringify(text.length > 500 ? text.slice(0, 500) + '…' : text)}`,
    });
  }

  // ---- internals -------------------------------------------------------------------

  /**
   * Runs `check` now and after every mirror change until it returns true or the deadline
   * passes. A dropped connection just means no updates for a while: the client reconnects.
   */
  private async eachVersion(deadline: Deadline, signal: AbortSignal | undefined, check: () => boolean | Promise<boolean>): Promise<void> {
    let version = this.client.version;
    for (;;) {
      signal?.throwIfAborted();
      const started = now();
      if (await check()) return;
      if (deadline.expired()) return;
      const next = await this.nextVersion(version, deadline.remaining(), signal);
      if (next === version) return; // timed out
      version = next;
      const pause = MIN_RECHECK_MS - (now() - started);
      if (pause > 0 && deadline.remaining() > pause) await sleep(pause, signal);
    }
  }

  /** The next version, or the same one when `ms` passed without an update. */
  private async nextVersion(version: number, ms: number, signal?: AbortSignal): Promise<number> {
    if (ms <= 0) return this.client.version;
    try {
      return await this.client.waitForUpdate(version, ms, signal);
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
    const name = referenceName(reference);
    let artifacts: { actualPath?: string; diffPath?: string } = {};
    try {
      artifacts = await writeMatchArtifacts(this.artifactsDir(), name, this.capture(), image, needle, best);
    } catch (err) {
      this.log.warn('artifact-write-failed', { error: err });
    }
    const { actualPath, diffPath } = artifacts;
    return new ScreenMatchTimeoutError(`reference ${name} (${needle.width}x${needle.height})`, timeout, {
      bestSimilarity: best?.similarity ?? 0,
      threshold,
      bestAt: best ? { x: best.x, y: best.y } : undefined,
      actualPath,
      diffPath,
      hint: actualPath ? `see ${actualPath} and ${diffPath ?? '(no diff)'}` : undefined,
    });
  }
}

function toMatch(best: Best, needle: Needle): ScreenMatch {
  return { x: best.x, y: best.y, width: needle.width, height: needle.height, similarity: best.similarity };
}
