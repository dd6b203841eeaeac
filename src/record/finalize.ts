import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { codecOptions, concatList, type EncodingSpec } from './encoding.js';
import { batchTimeout, runFfmpeg } from './ffmpeg-run.js';
import type { Frame } from '../frames.js';
import type { Logger } from '../log.js';

export interface Segment {
  path: string;
  /** How long the segment should last (frames sent to it / fps). */
  durationSec: number;
}

const concatInput = (list: string) => ({ path: list, options: ['-f', 'concat', '-safe', '0'] });

/** Temporary sibling name, so an existing file is replaced only by a finished one. */
export function tempSibling(path: string, tag: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${tag}`;
}

/**
 * Turns the crash-tolerant segments into the final file: a stream copy for mp4/webm,
 * a two-pass palette for gif. After a restart (several segments) the concat list's
 * durations keep the true timeline and the fps filter fills what the dead ffmpeg lost
 * with the last picture, which means re-encoding, so the file stays constant-rate.
 */
export async function finalizeSegments(segments: Segment[], output: string, spec: EncodingSpec, tag = randomBytes(3).toString('hex')): Promise<void> {
  const format = spec.format;
  const cfr = `fps=${spec.fps}`;
  const whole = segments.length === 1;
  const list = tempSibling(output, `${tag}.concat.txt`);
  const tmp = tempSibling(output, `${tag}.tmp.${format}`);
  const palette = tempSibling(output, `${tag}.palette.png`);
  const timeoutMs = batchTimeout(segments.reduce((sum, s) => sum + s.durationSec, 0));
  try {
    await writeFile(list, concatList(segments));
    if (format === 'gif') {
      await runFfmpeg({ inputs: [concatInput(list)], output: palette, timeoutMs, outputOptions: ['-vf', `${cfr},palettegen=stats_mode=diff`, '-update', '1'] });
      await runFfmpeg({
        inputs: [concatInput(list), { path: palette }],
        output: tmp,
        format: 'gif',
        timeoutMs,
        outputOptions: ['-lavfi', `[0:v]${cfr}[v];[v][1:v]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle`, '-loop', '0'],
      });
    } else {
      const video = whole ? ['-c', 'copy'] : ['-vf', cfr, ...codecOptions(spec)];
      await runFfmpeg({
        inputs: [concatInput(list)],
        output: tmp,
        format: format === 'mp4' ? 'mp4' : 'webm',
        timeoutMs,
        outputOptions: ['-map', '0:v', ...video, ...(format === 'mp4' ? ['-movflags', '+faststart'] : [])],
      });
    }
    await rename(tmp, output);
  } finally {
    // Never the segments: they are the caller's (and the only copy if this failed).
    await Promise.all([list, tmp, palette].map((p) => rm(p, { force: true })));
  }
}

/**
 * The poster: the last picture of the section, as PNG beside the video (`{section}.png`).
 * Returns its path, or undefined (with a warning) when it cannot be written: the video is what matters.
 */
export async function writePoster(frame: Frame, video: string, log: Logger): Promise<string | undefined> {
  const path = video.replace(/\.[^./]+$/, '') + '.png';
  try {
    // Opaque, whatever the mirror's alpha bytes say.
    await sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
      .removeAlpha()
      .png()
      .toFile(path);
  } catch (err) {
    log.warn('the poster could not be written', { path, error: err });
    await rm(path, { force: true }).catch(() => undefined);
    return undefined;
  }
  return path;
}
