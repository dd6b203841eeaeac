import { resolve } from 'node:path';

/** demo-videos/ under the current directory: where demos write unless given an outputDir. */
export function outputBase(cwd = process.cwd()): string {
  return resolve(cwd, 'demo-videos');
}
