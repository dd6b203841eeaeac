import type { Logger } from '../log.js';
import { parseOptions, z } from '../option-schema.js';

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

const DEFAULT_MIN_FREE_BYTES = 1024 ** 3;
const MAX_FPS = 120;
/** Largest output side ffmpeg's encoders are asked for (H.264 level limits are far below). */
const MAX_SIDE = 16_384;
const MAX_SCALE_FACTOR = 16;
/** The highest crf of H.264 (VP9 goes to 63). */
const MAX_CRF_H264 = 51;

/** Bits per second of a bitrate option ('2M', '800k', 2e6), or NaN. */
function bitsPerSecond(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v);
  if (!m) return NaN;
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1);
}

const BITRATE_HINT = "whole bits per second (1000 to 1e9) or a string like '2M' or '800k'";
const side = z.number().int().min(2).max(MAX_SIDE);

const recordOptionsSchema = z
  .strictObject({
    fps: z
      .number({ error: `a number above 0 and at most ${MAX_FPS}` })
      .positive()
      .max(MAX_FPS)
      .optional(),
    format: z.enum(['mp4', 'webm', 'gif'], { error: 'mp4, webm or gif' }).optional(),
    bitrate: z
      .union([z.number().int(), z.string()], { error: `not a bitrate: use ${BITRATE_HINT}` })
      .refine((b) => {
        const bps = bitsPerSecond(b);
        return Number.isFinite(bps) && bps >= 1000 && bps <= 1e9;
      }, `not a bitrate: use ${BITRATE_HINT}`)
      .optional(),
    crf: z
      .number({ error: `a whole number, 0..${MAX_CRF_H264} for H.264 (mp4, gif), 0..63 for VP9 (webm)` })
      .int()
      .min(0)
      .max(63)
      .optional(),
    scale: z
      .union([z.number().positive().max(MAX_SCALE_FACTOR), z.strictObject({ width: side, height: side })], {
        error: `a factor above 0 and at most ${MAX_SCALE_FACTOR}, or { width, height } in whole pixels from 2 to ${MAX_SIDE}`,
      })
      .optional(),
    cursor: z.boolean().optional(),
    minFreeBytes: z.number({ error: 'a number of bytes ≥ 0 (0 turns the free-space checks off)' }).nonnegative().optional(),
    keycast: z.boolean().optional(),
    clickRings: z.boolean().optional(),
    poster: z.boolean().optional(),
    log: z.custom<Logger>((v) => typeof v === 'object' && v !== null, 'a demotool Logger').optional(),
  })
  .superRefine((o, ctx) => {
    if (o.bitrate !== undefined && o.crf !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['crf'], message: '`bitrate` and `crf` are mutually exclusive: give one of them' });
    }
    if (o.crf !== undefined && o.format !== 'webm' && o.crf > MAX_CRF_H264 && o.crf <= 63) {
      ctx.addIssue({ code: 'custom', path: ['crf'], message: `out of range: H.264 takes 0..${MAX_CRF_H264}` });
    }
  });

export interface ResolvedRecordOptions {
  format: 'mp4' | 'webm' | 'gif';
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

/**
 * Every record option checked in one place (types, ranges, NaN and Infinity), with the
 * defaults filled in. Throws UsageError before anything is created or started.
 */
export function resolveRecordOptions(options: unknown): ResolvedRecordOptions {
  const o = parseOptions(recordOptionsSchema, options, 'record');
  const format = o.format ?? 'mp4';
  return {
    format,
    fps: o.fps ?? (format === 'gif' ? 10 : 30),
    bitrate: o.bitrate,
    crf: o.crf,
    scale: o.scale,
    cursor: o.cursor ?? true,
    minFreeBytes: o.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    keycast: o.keycast ?? false,
    clickRings: o.clickRings ?? false,
    poster: o.poster ?? true,
  };
}

/** Throws UsageError if the record options are bad; for callers that check everything before a boot. */
export function validateRecordOptions(options: (RecordOptions & { log?: Logger }) | undefined): void {
  resolveRecordOptions(options);
}
