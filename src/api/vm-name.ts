import { randomBytes } from 'node:crypto';
import { slug } from './demo-name.js';

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

function shortId(): string {
  const bytes = randomBytes(6);
  return Array.from(bytes, (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'.charAt(b % 36)).join('');
}
