import { mkdir, statfs } from 'node:fs/promises';
import { sleep } from '../timeouts.js';
import { DiskSpaceError, OutputDirectoryError, VNCConnectionError } from './errors.js';
import type { FrameSource } from './types.js';

export const DEFAULT_MIN_FREE_BYTES = 1024 ** 3;
export const CONNECT_WAIT_MS = 5_000;

/** mkdir -p, with an error that names the path. */
export async function ensureDirectory(dir: string): Promise<void> {
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

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export async function checkDiskSpace(dir: string, minFreeBytes: number): Promise<void> {
  const free = await freeBytes(dir);
  if (free < minFreeBytes) throw new DiskSpaceError(dir, free, minFreeBytes);
}

/** The spec's start check: the mirror must be connected (wait up to 5 s). */
export async function waitConnected(source: FrameSource, timeoutMs = CONNECT_WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!source.connected) {
    if (performance.now() >= deadline) {
      throw new VNCConnectionError(`the VNC connection was not up within ${timeoutMs} ms, cannot start recording`, {
        hint: 'make sure the VM is running and its VNC display is reachable before recording',
      });
    }
    await sleep(50);
  }
}

/**
 * A section name as a file name: lowercase [a-z0-9._-], accents dropped, no
 * leading dots (no hidden files, no traversal), never empty.
 */
export function safeFileName(section: string): string {
  const ascii = String(section).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const name = ascii
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 100)
    .replace(/[-.]+$/, '');
  return name || 'section';
}
