import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemotoolError } from '../errors.js';

/**
 * The directory of demotool's own package.json: two levels up from src/cli when run from the
 * sources (tsx), three from dist/src/cli when installed. Found by walking up, so both work.
 */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'demotool') return dir;
    if (path.dirname(dir) === dir)
      throw new DemotoolError('ENOPACKAGEROOT', `no demotool package.json above ${from}`, { hint: 'reinstall demotool: its package files are incomplete' });
  }
}

/** The version in demotool's package.json. */
export function packageVersion(root = packageRoot()): string {
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
}
