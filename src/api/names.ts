import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { xdgCache } from 'xdg-basedir';
import { tmpdir } from 'node:os';
import { UsageError } from '../errors.js';

/**
 * 'My Cool Demo!' → 'my-cool-demo', 'Démo über' → 'démo-über'. Demo names become directory
 * names: letters and digits of any script are kept, everything else folds to '-'.
 */
export function slug(name: string): string {
  const s = String(name)
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  const cut = [...s].slice(0, 48).join('').replace(/-+$/, '');
  if (!cut) throw new UsageError(`demo name ${JSON.stringify(name)} has no letters or digits`, 'use a name like "my-cool-demo"');
  return cut;
}

/** The ASCII part of a slug, for VM names (libvirt, QEMU and socket paths): 'démo-über' → 'd-mo-ber', 'デモ' → 'vm'. */
function asciiSlug(s: string): string {
  return s.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'vm';
}

/**
 * `demo-{demo-name}-{id}`: readable, and unique per VM, so that two runs, two workers or two
 * sessions with one demo name (or names that fold to one slug) never share a VM, an overlay
 * or a socket. The id is 6 random letters and digits.
 */
export function vmName(demo: string, id: string = shortId()): string {
  return `demo-${asciiSlug(slug(demo))}-${id}`;
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
