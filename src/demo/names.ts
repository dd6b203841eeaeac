import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { xdgCache } from 'xdg-basedir';
import { tmpdir } from 'node:os';
import { UsageError } from '../errors.js';

/** 'My Cool Demo!' → 'my-cool-demo'. Demo names become directory and VM names. */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  if (!s) throw new UsageError(`demo name ${JSON.stringify(name)} has no letters or digits`, 'use a name like "my-cool-demo"');
  return s;
}

/**
 * `demo-{demo-name}-{id}`: readable, and unique per VM, so that two runs, two workers or two
 * sessions with one demo name (or names that fold to one slug) never share a VM, an overlay
 * or a socket. The id is 6 random letters and digits.
 */
export function vmName(demo: string, id: string = shortId()): string {
  return `demo-${slug(demo)}-${id}`;
}

export function shortId(): string {
  const bytes = randomBytes(6);
  return Array.from(bytes, (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
}

/** demo-videos/ under the current directory (the spec's output base). */
export function outputBase(cwd = process.cwd()): string {
  return resolve(cwd, 'demo-videos');
}

/** Where running VMs keep their overlay and serial log. Emptied as VMs go away. */
export function runDir(): string {
  return join(xdgCache ?? join(tmpdir(), 'demotool-cache'), 'demotool', 'run');
}

export function stateDir(): string {
  return join(xdgCache ?? join(tmpdir(), 'demotool-cache'), 'demotool');
}
