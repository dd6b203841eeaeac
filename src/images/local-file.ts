/**
 * A local disk file as an image source: `file:PATH`. It is converted once into the cache as
 * qcow2, under a name derived from its content (`file-` + 16 hex digits of its sha256), so
 * the same file is converted once and a changed file is a new image. The user's file is only
 * ever read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { CommandTimeoutError, UsageError, lastLines } from '../errors.js';
import { defaultTimeout } from '../timeouts.js';
import { qemuImg, qemuImgInfo } from '../qemu-img.js';
import { ImageValidationError } from './errors.js';

export const FILE_PREFIX = 'file:';

/** Formats a local file may be in; each is converted to qcow2. */
export const localFormats = ['qcow2', 'raw', 'vmdk', 'vdi'] as const;

/** Cache names of converted local files: `file-` and 16 hex digits of the content hash. */
export const LOCAL_NAME_RE = /^file-[0-9a-f]{16}$/;

/** What a file spec names: the absolute path of `file:PATH` (a relative PATH is taken from the working directory). */
export function localFilePath(spec: string, cwd = process.cwd()): string | undefined {
  if (!spec.startsWith(FILE_PREFIX)) return undefined;
  const p = spec.slice(FILE_PREFIX.length);
  if (!p) throw new UsageError(`${JSON.stringify(spec)} names no file`, 'write file:PATH, e.g. file:./golden.qcow2');
  return path.resolve(cwd, p);
}

export function localImageName(sha256: string): string {
  return `file-${sha256.slice(0, 16)}`;
}

/** What the sidecar of a converted local file records about where it came from. */
export interface LocalSource {
  path: string;
  sha256: string;
  format: string;
  sizeBytes: number;
}

const bad = (file: string, reason: string, hint: string) => new ImageValidationError({ image: file, step: 'local file', reason, hint });

/**
 * Checks that `file` is a disk image demotool can use, before anything is converted or defined:
 * a regular readable file in one of localFormats, whose backing files (if any) exist.
 * @returns its format, and the files of its backing chain (nearest first).
 */
export async function checkLocalFile(file: string): Promise<{ format: string; backing: string[] }> {
  const st = await fs.stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`image file ${file} does not exist (${e.code})`, 'give the path of a qcow2, raw, vmdk or vdi disk image');
  });
  if (!st.isFile()) throw new UsageError(`image file ${file} is not a file`, 'give the path of a disk image file, not a directory');
  await fs.access(file, fs.constants.R_OK).catch(() => {
    throw new UsageError(`image file ${file} is not readable`, 'check its permissions');
  });
  const info = await qemuImgInfo(file).catch((e: Error) => {
    throw bad(file, e.message, 'is it a disk image?');
  });
  if (!(localFormats as readonly string[]).includes(info.format))
    throw bad(file, `its format is ${info.format}`, `demotool takes ${localFormats.join(', ')} disk images`);
  // qemu-img calls anything it does not recognise raw: refuse what is plainly not a disk.
  if (info.format === 'raw') await checkRawLooksLikeDisk(file, st.size);
  return { format: info.format, backing: info.backingFile ? await backingChain(file) : [] };
}

const SECTOR = 512;

async function checkRawLooksLikeDisk(file: string, size: number): Promise<void> {
  const hint = `demotool takes ${localFormats.join(', ')} disk images; a raw disk is a whole number of 512-byte sectors`;
  if (size === 0 || size % SECTOR !== 0) throw bad(file, `not a disk image (${size} bytes, not a whole number of sectors)`, hint);
  const head = Buffer.alloc(SECTOR);
  const handle = await fs.open(file, 'r');
  try {
    await handle.read(head, 0, SECTOR, 0);
  } finally {
    await handle.close();
  }
  if (isText(head)) throw bad(file, 'not a disk image (its first sector is text)', hint);
}

/** Printable ASCII and whitespace only, and not all zero (an empty boot sector is a disk's). */
function isText(b: Buffer): boolean {
  if (b.every((c) => c === 0)) return false;
  return b.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127));
}

async function backingChain(file: string): Promise<string[]> {
  const r = await qemuImg(['info', '--backing-chain', '--output=json', file]);
  if (r.exitCode !== 0)
    throw bad(
      file,
      `its backing chain can't be opened: ${lastLines(r.stderr, 3)}`,
      'the backing file must exist where the image names it (qemu-img info shows it)',
    );
  const chain = JSON.parse(r.stdout) as { filename: string }[];
  return chain.slice(1).map((layer) => layer.filename);
}

/**
 * The content key of a local image: the file's sha256, or with a backing chain, the sha256 of
 * every layer's (a changed backing file changes what the guest sees, so it is a new image).
 */
export async function contentKey(fileSha256: string, backing: string[], sha256Of: (file: string) => Promise<string>): Promise<string> {
  if (backing.length === 0) return fileSha256;
  const layers = [fileSha256, ...(await Promise.all(backing.map(sha256Of)))];
  return createHash('sha256').update(layers.join('\n')).digest('hex');
}

/** The qemuImg timeout, plus a second per 20 MiB of the source: a golden image of many GiB takes minutes. */
export function convertTimeoutMs(sizeBytes: number): number {
  return defaultTimeout('qemuImg') + Math.ceil(sizeBytes / (20 * 2 ** 20)) * 1000;
}

/**
 * Converts `file` (format `format`, `sizeBytes` long) to a standalone qcow2 at `out` (the
 * backing chain is flattened). qemu-img opens the source read-only.
 */
export async function convertToQcow2(file: string, format: string, sizeBytes: number, out: string): Promise<void> {
  const timeoutMs = convertTimeoutMs(sizeBytes);
  const args = ['convert', '-q', '-f', format, '-O', 'qcow2', file, out];
  const r = await execa('qemu-img', args, { reject: false, timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.timedOut) throw new CommandTimeoutError(`qemu-img ${args.join(' ')}`, timeoutMs);
  if (r.exitCode !== 0) throw bad(file, `qemu-img convert failed: ${lastLines(r.stderr, 5) || r.shortMessage}`, 'is the disk full?');
}
