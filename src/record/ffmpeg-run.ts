import ffmpeg from 'fluent-ffmpeg';
import { FFMPEG_HINT, RecordingError } from './errors.js';

export interface FfmpegJob {
  inputs: { path: string; options?: string[] }[];
  output: string;
  outputOptions: string[];
  format?: string;
}

/** Runs one batch ffmpeg job (remux, concat, palette...) to completion. */
export function runFfmpeg(job: FfmpegJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const cmd = ffmpeg({ stdoutLines: 0 });
    for (const input of job.inputs) {
      cmd.input(input.path);
      if (input.options?.length) cmd.inputOptions(input.options);
    }
    cmd.output(job.output).outputOptions(job.outputOptions);
    if (job.format) cmd.format(job.format);
    cmd.on('end', () => resolve());
    cmd.on('error', (err: Error, _out: string | null, stderr: string | null) => {
      const missing = /Cannot find ffmpeg|ENOENT/.test(err.message);
      const tail = (stderr ?? '').trim().split('\n').slice(-8).join('\n');
      reject(new RecordingError(missing ? 'ffmpeg was not found' : `ffmpeg failed writing ${job.output}: ${err.message}\n${tail}`, {
        hint: missing ? FFMPEG_HINT : undefined,
        cause: err,
      }));
    });
    cmd.run();
  });
}
