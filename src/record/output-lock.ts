import { randomBytes } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { processStartTime } from '../process-identity.js';
import { OutputDirectoryError, OutputLockedError } from './errors.js';

/**
 * One writer per output file, across recorders and processes: `.{name}.lock` next to the
 * file, created exclusively, holding the owner's pid, process start time and host. A lock
 * whose owner is provably gone (same host, pid dead or reused) is taken over; any other
 * holder makes the second writer fail with OutputLockedError.
 */
export interface OutputLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
  /** /proc/{pid}/stat start time, to tell a reused pid from the owner. */
  start?: string;
  token: string;
}

/** Half-written lock files younger than this are someone else's, being written now. */
const FRESH_MS = 10_000;
/** Errors of a name the file system refuses (not UTF-8 on this mount, too long...). */
const BAD_NAME = new Set(['EILSEQ', 'EINVAL', 'ENAMETOOLONG']);

export function lockPathOf(output: string): string {
  return `${dirname(output)}/.${basename(output)}.lock`;
}

/** Is the process that wrote `owner` provably gone? Only decidable on the same host. */
function ownerGone(owner: Owner): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const start = processStartTime(owner.pid);
  return owner.start !== undefined && start !== undefined && start !== owner.start;
}

function parse(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string') return o as Owner;
  } catch {
    /* half-written or foreign */
  }
  return undefined;
}

export async function lockOutput(output: string): Promise<OutputLock> {
  const path = lockPathOf(output);
  const me: Owner = { pid: process.pid, host: hostname(), start: processStartTime(process.pid), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(me) + '\n');
      } finally {
        await fh.close();
      }
      return { path, release: () => release(path, me.token) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (BAD_NAME.has(code)) {
        throw new UsageError(
          `the file system of ${dirname(output)} does not accept the file name "${basename(output)}" (${code})`,
          'name the section (or the file) with fewer or plainer characters',
        );
      }
      if (code !== 'EEXIST') {
        throw new OutputDirectoryError(dirname(output), `cannot create ${path} (${code || String(err)})`, {
          hint: 'check that the video directory is writable',
          cause: err,
        });
      }
    }
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) {
      if (attempt >= 3) throw new OutputLockedError(output, path);
      continue; // released meanwhile: try again
    }
    const owner = parse(text);
    const stale = owner
      ? ownerGone(owner)
      : await stat(path).then(
          (s) => Date.now() - s.mtimeMs > FRESH_MS,
          () => true,
        );
    if (!stale || attempt >= 3) throw new OutputLockedError(output, path, owner ?? {});
    // Take over only the lock we judged: if it changed meanwhile, someone else took it.
    const again = await readFile(path, 'utf8').catch(() => undefined);
    if (again === text) await rm(path, { force: true });
  }
}

async function release(path: string, token: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text !== undefined && parse(text)?.token === token) await rm(path, { force: true });
}
