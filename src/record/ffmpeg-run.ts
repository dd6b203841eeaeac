import { execa } from 'execa';
import { CommandTimeoutError } from '../errors.js';
import { defaultTimeout, timeoutScale } from '../timeouts.js';
import { FFMPEG_HINT, RecordingError } from './errors.js';

export interface FfmpegJob {
  inputs: { path: string; options?: string[] }[];
  output: string;
  outputOptions: string[];
  format?: string;
  /** Killed (CommandTimeoutError) after this long; default batchTimeout(). */
  timeoutMs?: number;
}

/**
 * The time a batch job on `videoSec` seconds of video may take: the ffmpegBatch default, or
 * 3× the duration when longer (a re-encode on a busy machine), scaled by DEMOTOOL_TIMEOUT_SCALE.
 */
export function batchTimeout(videoSec = 0): number {
  const bySize = Number.isFinite(videoSec) && videoSec > 0 ? videoSec * 3_000 * timeoutScale() : 0;
  return Math.max(defaultTimeout('ffmpegBatch'), bySize);
}

/** ffmpeg's words for a full disk. */
export const NO_SPACE = /No space left on device|ENOSPC/i;

/** ffmpeg's arguments for a job: each input's options before its `-i`, then the output's. */
export function ffmpegArgs(job: Omit<FfmpegJob, 'timeoutMs'>): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-y',
    ...job.inputs.flatMap((input) => [...(input.options ?? []), '-i', input.path]),
    ...job.outputOptions,
    ...(job.format ? ['-f', job.format] : []),
    job.output,
  ];
}

/** Runs one batch ffmpeg job (remux, concat, palette...) to completion, or kills it at its timeout. */
export async function runFfmpeg(job: FfmpegJob): Promise<void> {
  const timeoutMs = job.timeoutMs ?? batchTimeout();
  const result = await execa('ffmpeg', ffmpegArgs(job), {
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdin: 'ignore',
    stdout: 'ignore',
    reject: false,
    // Out of the terminal's process group: a Ctrl-C during a remux would leave the video
    // unfinished while the cleanup waits for it. If this process dies, the job just ends on its own.
    detached: true,
  });
  if (result.timedOut) throw new CommandTimeoutError(`ffmpeg writing ${job.output}`, timeoutMs, { cause: result });
  if (!result.failed) return;
  const stderr = result.stderr ?? '';
  if ((result as { code?: string }).code === 'ENOENT') {
    throw new RecordingError('ffmpeg was not found', { hint: FFMPEG_HINT, cause: result });
  }
  const how = result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
  const tail = stderr.trim().split('\n').slice(-8).join('\n');
  const full = NO_SPACE.test(stderr);
  throw new RecordingError(`ffmpeg failed writing ${job.output}${full ? ': the disk is full' : ''} (${how})\n${tail}`, {
    hint: full ? 'free some disk space' : undefined,
    cause: result,
    code: full ? 'ERECORD_DISK_FULL' : undefined,
  });
}
