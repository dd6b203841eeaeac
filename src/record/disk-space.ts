import { stat, statfs } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { DiskSpaceError } from './errors.js';

/** How often free space is checked while recording. */
const CHECK_MS = 1_000;
/** Headroom kept free while recording, at most (never more than minFreeBytes). */
const FLOOR_BYTES = 16 * 1024 ** 2;

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** DiskSpaceError when `dir`'s disk has less than `minFreeBytes` free. */
export async function checkDiskSpace(dir: string, minFreeBytes: number): Promise<void> {
  const free = await freeBytes(dir);
  if (free < minFreeBytes) throw new DiskSpaceError(dir, free, minFreeBytes);
}

export interface DiskWatchOptions {
  /** The video being recorded. */
  output: string;
  dir: string;
  minFreeBytes: number;
  format: string;
  /** Bytes of the poster, 0 without one. */
  posterBytes: number;
  /** The segment files written so far. */
  segments: () => string[];
  /** Called once when the space left would not be enough to finish the video. */
  onLow: (err: DiskSpaceError) => void;
  log: Logger;
}

/**
 * Every second while recording, compares free space with what finishing the video needs, so
 * the recording can stop cleanly, with a finished video, before the disk is too full for it.
 */
export class DiskWatch {
  private timer?: NodeJS.Timeout;
  private checking = false;
  private lastBytes = 0;

  constructor(private readonly opts: DiskWatchOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), CHECK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * What finishing the video needs on disk: the final file (about the segments' size; a
   * gif or a re-encode may be larger), what ffmpeg writes before it stops (two check
   * intervals at the current rate), the poster, and a little headroom.
   */
  private bytesToFinish(segmentBytes: number, growth: number, segmentCount: number): number {
    const factor = this.opts.format === 'gif' ? 3 : segmentCount > 1 ? 1.5 : 1.1;
    const floor = Math.min(this.opts.minFreeBytes, FLOOR_BYTES);
    return Math.ceil((segmentBytes + 2 * growth) * factor + this.opts.posterBytes + 64 * 1024 + floor);
  }

  private async check(): Promise<void> {
    if (!this.timer || this.checking) return;
    this.checking = true;
    try {
      const segments = this.opts.segments();
      const sizes = await Promise.all(
        segments.map((p) =>
          stat(p).then(
            (st) => st.size,
            () => 0,
          ),
        ),
      );
      const bytes = sizes.reduce((a, b) => a + b, 0);
      const free = await freeBytes(this.opts.dir);
      const growth = Math.max(0, bytes - this.lastBytes);
      this.lastBytes = bytes;
      const needed = this.bytesToFinish(bytes, growth, segments.length);
      if (free >= needed || !this.timer) return;
      this.stop();
      this.opts.onLow(new DiskSpaceError(this.opts.dir, free, needed, { stopped: this.opts.output }));
    } catch (err) {
      this.opts.log.debug('free space check failed', { error: err });
    } finally {
      this.checking = false;
    }
  }
}
