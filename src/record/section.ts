import { join } from 'node:path';
import { createLogger, type Logger } from '../log.js';
import { safeFileName } from './checks.js';
import { Recorder, type RecordingResult, type RecordOptions } from './recorder.js';
import type { FrameSource, InputSource } from './types.js';

/**
 * Records body() into `${directory}/${safeFileName(section)}.${ext}`. The partial video
 * is finalized even when body throws (then rethrows).
 */
export async function recordSection<T>(
  source: FrameSource & Partial<InputSource>,
  directory: string,
  section: string,
  body: () => Promise<T>,
  options: RecordOptions & { log?: Logger } = {},
): Promise<RecordingResult> {
  const log = options.log ?? createLogger('record');
  const path = join(directory, `${safeFileName(section)}.${options.format ?? 'mp4'}`);
  const recorder = new Recorder(source, { ...options, log });
  await recorder.start(path);
  try {
    await body();
  } catch (err) {
    await recorder.stop().catch((stopErr: unknown) => {
      log.warn('the section failed and its video could not be finished', { path, error: stopErr });
    });
    throw err;
  }
  const result = await recorder.stop();
  return { ...result, section };
}
