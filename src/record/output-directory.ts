import { mkdir } from 'node:fs/promises';
import { OutputDirectoryError } from './errors.js';

/** mkdir -p for the video's directory, with an error that names the path. */
export async function ensureOutputDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new OutputDirectoryError(dir, `cannot create the video directory ${dir} (${code})`, {
      hint: 'check that the path is writable, or choose another demo directory',
      cause: err,
    });
  }
}
