import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { VideoFormat } from './encoding.js';

export interface RecordOptions {
  /** Frames per second of the video, 0 < fps ≤ 120; default 30 (10 for gif). */
  fps?: number;
  /** mp4 (H.264, default), webm (VP9) or gif. */
  format?: 'mp4' | 'webm' | 'gif';
  /** Target bitrate, default '2M'. Mutually exclusive with crf. */
  bitrate?: string | number;
  /** Constant quality instead of a bitrate. */
  crf?: number;
  /** A factor, or a box to letterbox into. */
  scale?: number | { width: number; height: number };
  /** Draw the pointer into every frame; default true. */
  cursor?: boolean;
  /**
   * Refuse to start with less free space than this on the output's disk; default 1 GiB.
   * While recording, free space is checked every second, and the recording is stopped (the
   * video so far is finished and kept) when what is left would not be enough to finish it.
   * 0 turns both checks off.
   */
  minFreeBytes?: number;
  /** Caption of the keys pressed; default off. */
  keycast?: boolean;
  /** A fading ring where the mouse clicked; default off. */
  clickRings?: boolean;
  /** Write `{section}.png`, the last frame; default true. */
  poster?: boolean;
}

export const DEFAULT_MIN_FREE_BYTES = 1024 ** 3;
export const MAX_FPS = 120;
/** Largest output side ffmpeg's encoders are asked for (H.264 level limits are far below). */
export const MAX_SIDE = 16_384;
const MAX_SCALE_FACTOR = 16;
const FORMATS: readonly VideoFormat[] = ['mp4', 'webm', 'gif'];
const KNOWN = new Set(['fps', 'format', 'bitrate', 'crf', 'scale', 'cursor', 'minFreeBytes', 'keycast', 'clickRings', 'poster', 'log']);

export interface ResolvedRecordOptions {
  format: VideoFormat;
  fps: number;
  bitrate?: string | number;
  crf?: number;
  scale?: number | { width: number; height: number };
  cursor: boolean;
  minFreeBytes: number;
  keycast: boolean;
  clickRings: boolean;
  poster: boolean;
}

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;
  }
};

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function boolOption(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new UsageError(`record option \`${key}\` must be true or false, got ${show(v)}`);
  return v;
}

/** Bits per second of a bitrate option ('2M', '800k', 2e6), or NaN. */
function bitsPerSecond(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v);
  if (!m) return NaN;
  const unit = m[2].toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1);
}

/**
 * Every record option checked in one place (types, ranges, NaN and Infinity), with the
 * defaults filled in. Throws UsageError before anything is created or started.
 */
export function resolveRecordOptions(options: unknown): ResolvedRecordOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new UsageError(`record options must be an object, got ${show(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new UsageError(`unknown record option \`${key}\``,
        'the record options are fps, format, bitrate, crf, scale, cursor, minFreeBytes, keycast, clickRings and poster');
    }
  }

  const format = (o.format === undefined ? 'mp4' : o.format) as VideoFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`unknown record format ${show(o.format)}`, 'use mp4, webm or gif');

  const fps = o.fps === undefined ? (format === 'gif' ? 10 : 30) : o.fps;
  if (!(finite(fps) && fps > 0 && fps <= MAX_FPS)) {
    throw new UsageError(`record fps must be a number above 0 and at most ${MAX_FPS}, got ${show(o.fps)}`);
  }

  if (o.bitrate !== undefined && o.crf !== undefined) {
    throw new UsageError('record options `bitrate` and `crf` are mutually exclusive', 'give one of them');
  }
  let bitrate: string | number | undefined;
  if (o.bitrate !== undefined) {
    const b = o.bitrate;
    const bps = typeof b === 'string' || typeof b === 'number' ? bitsPerSecond(b) : NaN;
    if (!(Number.isFinite(bps) && bps >= 1000 && bps <= 1e9) || (typeof b === 'number' && !Number.isInteger(b))) {
      throw new UsageError(`record bitrate ${show(b)} is not a bitrate`,
        "use whole bits per second (1000 to 1e9) or a string like '2M' or '800k'");
    }
    bitrate = b as string | number;
  }

  const crfMax = format === 'webm' ? 63 : 51;
  if (o.crf !== undefined && !(typeof o.crf === 'number' && Number.isInteger(o.crf) && o.crf >= 0 && o.crf <= crfMax)) {
    throw new UsageError(`record crf ${show(o.crf)} is out of range`, format === 'webm' ? 'VP9 takes 0..63' : 'H.264 takes 0..51');
  }

  let scale: ResolvedRecordOptions['scale'];
  if (o.scale !== undefined) {
    const s = o.scale;
    if (typeof s === 'number') {
      if (!(finite(s) && s > 0 && s <= MAX_SCALE_FACTOR)) {
        throw new UsageError(`record scale must be a factor above 0 and at most ${MAX_SCALE_FACTOR}, got ${show(s)}`);
      }
      scale = s;
    } else if (typeof s === 'object' && s !== null && !Array.isArray(s)) {
      const box = s as Record<string, unknown>;
      const side = (v: unknown) => finite(v) && Number.isInteger(v) && v >= 2 && v <= MAX_SIDE;
      const extra = Object.keys(box).filter((k) => k !== 'width' && k !== 'height');
      if (!side(box.width) || !side(box.height) || extra.length) {
        throw new UsageError(`record scale box ${show(s)} is not a box`, `give { width, height }, whole pixels from 2 to ${MAX_SIDE}`);
      }
      scale = { width: box.width as number, height: box.height as number };
    } else {
      throw new UsageError(`record scale must be a factor or { width, height }, got ${show(s)}`);
    }
  }

  const minFreeBytes = o.minFreeBytes === undefined ? DEFAULT_MIN_FREE_BYTES : o.minFreeBytes;
  if (!(finite(minFreeBytes) && minFreeBytes >= 0)) {
    throw new UsageError(`record option \`minFreeBytes\` must be a number of bytes ≥ 0, got ${show(o.minFreeBytes)}`,
      '0 turns the free-space checks off');
  }

  if (o.log !== undefined && (typeof o.log !== 'object' || o.log === null)) {
    throw new UsageError('record option `log` must be a demotool Logger');
  }

  return {
    format, fps, bitrate, crf: o.crf as number | undefined, scale,
    cursor: boolOption(o, 'cursor', true),
    minFreeBytes,
    keycast: boolOption(o, 'keycast', false),
    clickRings: boolOption(o, 'clickRings', false),
    poster: boolOption(o, 'poster', true),
  };
}

/** Throws UsageError if the record options are bad; for callers that check everything before a boot. */
export function validateRecordOptions(options: RecordOptions & { log?: Logger } | undefined): void {
  resolveRecordOptions(options);
}
