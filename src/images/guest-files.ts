import { DemotoolError } from '../errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where guest/ lives), from src/ under tsx or dist/src/ when built. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'guest', 'linux'))) return dir;
    dir = dirname(dir);
  }
  throw new DemotoolError('EPACKAGE', 'the guest/ folder is missing from the demotool package', {
    hint: 'reinstall demotool; its package must include guest/',
  });
}

/** A file the built-in images install in the guest (guest/linux/NAME). */
export function guestFile(name: string): string {
  return readFileSync(join(packageRoot(), 'guest', 'linux', name), 'utf8');
}
