import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { safeFileName } from './section-file-name.js';
import { resolveRecordOptions, type RecordOptions } from './options.js';
import { Recorder, type RecordingResult } from './recorder.js';
import type { FrameSource, InputSource } from '../frames.js';

/** Which section name each section file was claimed by, in this process. */
const claimed = new Map<string, string>();

/**
 * Claims `path` for `section`. The same section recorded again overwrites its own file;
 * another name that folds to the same file ('A B' and 'a-b', two names in a script the file
 * system cannot hold...) is refused rather than silently overwriting the first.
 */
function claim(path: string, section: string): void {
  const name = String(section).normalize('NFC');
  const owner = claimed.get(path);
  if (owner !== undefined && owner !== name) {
    throw new UsageError(
      `the sections ${JSON.stringify(owner)} and ${JSON.stringify(name)} would both be recorded into ${path}`,
      'give sections names that differ in more than case, accents, spaces or punctuation',
    );
  }
  claimed.set(path, name);
}

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
  if (typeof section !== 'string') throw new UsageError(`a section name must be a string, got ${typeof section}`);
  if (typeof body !== 'function') throw new UsageError('recordSection needs a body function');
  const opts = resolveRecordOptions(options);
  const log = options.log ?? createLogger('record');
  const path = resolve(join(directory, `${safeFileName(section)}.${opts.format}`));
  claim(path, section);
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
