import { mkdir, statfs } from 'node:fs/promises';
import { sleep } from '../timeouts.js';
import { DiskSpaceError, OutputDirectoryError, VNCConnectionError } from './errors.js';
import type { FrameSource } from '../frames.js';

export { DEFAULT_MIN_FREE_BYTES } from './options.js';
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

/** Longest section file name, in UTF-8 bytes: room for the extension and temp-file tags under 255. */
export const MAX_NAME_BYTES = 150;
const MAX_NAME_CHARS = 100;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A section name as a file name: lowercase letters (accents kept) and digits of any script,
 * `.`, `_` and `-` (Café → café, 日本語, русский); no separators, controls or leading dots
 * (no hidden files, no traversal); at most 100 characters and 150 bytes; never empty.
 * Different names can fold to one file ('A B' and 'a-b'): recordSection refuses the second
 * of them in one directory.
 */
export function safeFileName(section: string): string {
  // NFKC: one spelling per letter (é composed), compatibility forms folded (ﬁ → fi, Ａ → a).
  const folded = String(section).normalize('NFKC').toLowerCase();
  const name = folded
    .replace(/[^\p{L}\p{N}\p{M}._-]+/gu, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.\p{M}]+|[-.]+$/gu, '');
  let out = '';
  let chars = 0;
  for (const { segment } of graphemes.segment(name)) {
    chars += [...segment].length;
    if (chars > MAX_NAME_CHARS || Buffer.byteLength(out + segment) > MAX_NAME_BYTES) break;
    out += segment;
  }
  return out.replace(/[-.]+$/, '') || 'section';
}
