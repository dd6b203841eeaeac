/**
 * Which base images are in use: named as backing files by qcow2 overlays (a running VM's,
 * or one that a snapshot revert would start QEMU on again), or held open by a process.
 * A base in use must never be deleted or replaced: QEMU reopens it by path.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

const QCOW2_MAGIC = 0x514649fb; // 'QFI\xfb'
const MAX_CHAIN = 16;

/** The backing file a qcow2 header names (resolved against the overlay's directory), or undefined. */
export async function qcow2BackingFile(file: string): Promise<string | undefined> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const header = Buffer.alloc(20);
    const { bytesRead } = await handle.read(header, 0, 20, 0);
    if (bytesRead < 20 || header.readUInt32BE(0) !== QCOW2_MAGIC) return undefined;
    const offset = header.readBigUInt64BE(8);
    const size = header.readUInt32BE(16);
    if (offset === 0n || size === 0 || size > 4096) return undefined;
    const name = Buffer.alloc(size);
    const read = await handle.read(name, 0, size, Number(offset));
    if (read.bytesRead !== size) return undefined;
    const backing = name.toString('utf8');
    // A protocol (nbd:, json:) is not a file of ours.
    if (/^[a-z][a-z0-9+]*:/i.test(backing) && !backing.startsWith('file:')) return undefined;
    return path.resolve(path.dirname(file), backing.replace(/^file:/, ''));
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Regular files under `dir`, down to `depth` directory levels. Missing or unreadable: none. */
async function filesUnder(dir: string, depth: number): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isFile()) out.push(p);
    else if (e.isDirectory() && depth > 0) out.push(...(await filesUnder(p, depth - 1)));
  }
  return out;
}

/** Both spellings of a path: as resolved, and with symlinks resolved (when it exists). */
async function spellings(p: string): Promise<string[]> {
  const abs = path.resolve(p);
  const real = await fs.realpath(abs).catch(() => abs);
  return real === abs ? [abs] : [abs, real];
}

/**
 * Every file that the qcow2 overlays under `dirs` stand on, whole backing chains, and every
 * file a process of this user holds open (/proc/PID/fd): running QEMUs hold their bases open.
 */
export async function filesInUse(dirs: string[], options: { openFiles?: boolean } = {}): Promise<Set<string>> {
  const used = new Set<string>();
  for (const dir of dirs) {
    for (const file of await filesUnder(dir, 2)) {
      let link = await qcow2BackingFile(file);
      for (let i = 0; link && i < MAX_CHAIN; i++) {
        for (const s of await spellings(link)) used.add(s);
        link = await qcow2BackingFile(link);
      }
    }
  }
  if (options.openFiles ?? true) for (const f of await openFiles()) used.add(f);
  return used;
}

/** Targets of /proc/PID/fd links that this process may read (its user's processes; all as root). */
async function openFiles(): Promise<string[]> {
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  const out: string[] = [];
  for (const pid of pids) {
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (target.startsWith('/') && !target.endsWith(' (deleted)')) out.push(target);
    }
  }
  return out;
}

/** Is `file` in the set filesInUse() returned? */
export async function isInUse(used: Set<string>, file: string): Promise<boolean> {
  return (await spellings(file)).some((s) => used.has(s));
}
