/**
 * An existing libvirt domain as an image source: `domain:NAME`. The API layer finds the domain
 * and its disk through libvirt; the cache only records the entry (a sidecar that points to the
 * domain's disk, never a copy), so `images list` shows it and `images remove`/`prune` forget it
 * without ever deleting the disk.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

export const DOMAIN_PREFIX = 'domain:';

/** What the sidecar of a domain's entry records: the domain, its disk (outside the cache), the disk's format and size. */
export interface DomainSource {
  /** The domain's name, as libvirt knows it. */
  domain: string;
  /** Absolute path of its first disk. */
  path: string;
  /** The disk's format, as the domain's definition gives it. */
  format: 'qcow2' | 'raw';
  /** The disk file's size, bytes. */
  sizeBytes: number;
}

/** The domain a `domain:NAME` spec names, else undefined. */
export function domainSpecName(spec: string): string | undefined {
  if (!spec.startsWith(DOMAIN_PREFIX)) return undefined;
  const name = spec.slice(DOMAIN_PREFIX.length);
  if (!name) throw new UsageError(`${JSON.stringify(spec)} names no domain`, 'write domain:NAME, with NAME as `virsh list --all` shows it');
  return name;
}

/**
 * The cache name of a domain's entry: `domain-` and its name, lowercased; a name outside the
 * cache's alphabet (upper case, '_', spaces...) also gets 8 hex digits of its sha256, so two
 * domains never share an entry.
 */
export function domainImageName(domain: string): string {
  const slug = domain
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, 60);
  const exact = slug === domain;
  return exact ? `domain-${slug}` : `domain-${slug}-${createHash('sha256').update(domain).digest('hex').slice(0, 8)}`;
}

export function isDomainSource(source: unknown): source is DomainSource {
  return typeof source === 'object' && source !== null && typeof (source as DomainSource).domain === 'string';
}
