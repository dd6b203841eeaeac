import type { ChildProcess } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';
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

/** After the kill, how long to wait for ffmpeg's exit before giving up on it. */
const KILL_GRACE_MS = 5_000;

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

/** Runs one batch ffmpeg job (remux, concat, palette...) to completion, or kills it at its timeout. */
export function runFfmpeg(job: FfmpegJob): Promise<void> {
  const timeoutMs = job.timeoutMs ?? batchTimeout();
  return new Promise((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    let grace: NodeJS.Timeout | undefined;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      err ? reject(err) : resolve();
    };
    const cmd = ffmpeg({ stdoutLines: 0 });
    const proc = () => (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
    const timeoutError = () => new CommandTimeoutError(`ffmpeg writing ${job.output}`, timeoutMs);
    const timer = setTimeout(() => {
      timedOut = true;
      proc()?.kill('SIGKILL');
      // Normally the 'error' event follows the kill; don't wait for ever if it does not.
      grace = setTimeout(() => settle(timeoutError()), KILL_GRACE_MS);
    }, timeoutMs);
    for (const input of job.inputs) {
      cmd.input(input.path);
      if (input.options?.length) cmd.inputOptions(input.options);
    }
    cmd.output(job.output).outputOptions(job.outputOptions);
    if (job.format) cmd.format(job.format);
    // The timer may fire while fluent-ffmpeg is still looking ffmpeg up.
    cmd.on('start', () => { if (timedOut) proc()?.kill('SIGKILL'); });
    cmd.on('end', () => (timedOut ? settle(timeoutError()) : settle()));
    cmd.on('error', (err: Error, _out: string | null, stderr: string | null) => {
      if (timedOut) return settle(timeoutError());
      const missing = /Cannot find ffmpeg|ENOENT/.test(err.message);
      const tail = (stderr ?? '').trim().split('\n').slice(-8).join('\n');
      const full = NO_SPACE.test(stderr ?? '') || NO_SPACE.test(err.message);
      settle(new RecordingError(
        missing ? 'ffmpeg was not found'
          : `ffmpeg failed writing ${job.output}${full ? ': the disk is full' : ''}: ${err.message}\n${tail}`,
        { hint: missing ? FFMPEG_HINT : full ? 'free some disk space' : undefined, cause: err, code: full ? 'ERECORD_DISK_FULL' : undefined },
      ));
    });
    cmd.run();
  });
}
