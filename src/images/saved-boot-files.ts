/**
 * The image cache's view of saved boots (warm starts): directories under the saved-boots dir,
 * each with frozen disks standing on a build of a base image and a `saved.json` whose mtime is
 * the boot's last use (touched at every restore). The cache never reads the save format; it
 * only removes whole directories, and never one that a VM's overlay stands on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { filesInUse, isInUse, qcow2BackingFile } from './in-use.js';

/** One saved boot (a warm start's frozen disk and memory), as `images prune` reports it. */
export interface SavedBootDir {
  /** The directory's name: the shape's key. */
  key: string;
  /** Its directory under the saved-boots dir. */
  dir: string;
  /** Its frozen disks (one per save). */
  disks: string[];
  /** The last restore from it, else when it was saved; else the directory's mtime. */
  lastUsed: Date;
  /** Disk space its files take. */
  sizeBytes: number;
  /** The base image build its frozen disk stands on (undefined when it can't be read). */
  base: string | undefined;
  /** `base` no longer exists (a temporary cache's build, or one removed by hand): nothing can restore from it. */
  baseGone: boolean;
}

/** Every saved boot under `root` (none when it does not exist). */
export async function listSavedBoots(root: string): Promise<SavedBootDir[]> {
  const out: SavedBootDir[] = [];
  for (const key of (await fs.readdir(root).catch(() => [] as string[])).sort()) {
    if (key.endsWith('.lock')) continue;
    const dir = path.join(root, key);
    const dirStat = await fs.stat(dir).catch(() => undefined);
    if (!dirStat?.isDirectory()) continue;
    const files = await fs.readdir(dir).catch(() => [] as string[]);
    const sizes = await Promise.all(
      files.map((f) =>
        fs.stat(path.join(dir, f)).then(
          (s) => (s.isFile() ? s.blocks * 512 : 0),
          () => 0,
        ),
      ),
    );
    const meta = await fs.stat(path.join(dir, 'saved.json')).catch(() => undefined);
    const disks = files.filter((f) => f.endsWith('.qcow2')).map((f) => path.join(dir, f));
    const base = disks[0] && (await qcow2BackingFile(disks[0]));
    out.push({
      key,
      dir,
      disks,
      lastUsed: (meta ?? dirStat).mtime,
      sizeBytes: sizes.reduce((a, b) => a + b, 0),
      base,
      baseGone: base !== undefined && !(await fs.stat(base).catch(() => undefined)),
    });
  }
  return out;
}

/**
 * A saved boot's lock (made by the API layer, which restores and saves): proper-lockfile's
 * directory `KEY.lock` beside it, refreshed every `updateMs` while held, stale after `staleMs`
 * (a killed run's stops moving), and `KEY.lock.holder` naming the process that holds it.
 */
export const SAVED_BOOT_LOCK = { staleMs: 60_000, updateMs: 10_000 } as const;

/** The lock's files for the saved boot in `dir`. */
export function savedBootLockFiles(dir: string): { lock: string; holder: string } {
  return { lock: `${dir}.lock`, holder: `${dir}.lock.holder` };
}

/**
 * True when a boot holds its lock (fresh: a copy being restored or a save being made), or one of
 * its disks is in `used` (filesInUse: a VM's overlay stands on it, or a process holds it open).
 */
async function inUse(saved: SavedBootDir, used: Set<string>): Promise<boolean> {
  const lock = await fs.stat(savedBootLockFiles(saved.dir).lock).catch(() => undefined);
  if (lock && Date.now() - lock.mtimeMs < SAVED_BOOT_LOCK.staleMs) return true;
  return (await Promise.all(saved.disks.map((d) => isInUse(used, d)))).some(Boolean);
}

/**
 * Removes the saved boots made from any of these base disks (builds going away), except those a
 * VM stands on. @returns the keys removed.
 */
export async function removeSavedBootsOn(root: string, bases: string[], runDirs: string[]): Promise<string[]> {
  if (bases.length === 0) return [];
  const builds = new Set(bases.map((d) => path.resolve(d)));
  const removed: string[] = [];
  const used = await filesInUse(runDirs);
  for (const saved of await listSavedBoots(root)) {
    const backing = await Promise.all(saved.disks.map((d) => qcow2BackingFile(d)));
    if (!backing.some((b) => b && builds.has(b))) continue;
    if (await inUse(saved, used)) continue;
    await removeSavedBoot(saved);
    removed.push(saved.key);
  }
  return removed;
}

/**
 * Removes the saved boots not restored from for `unusedForMs` (shapes no test asks for any
 * more, and those an upgraded QEMU or a new demotool no longer restores from: their last use
 * stops moving), and, whatever their age, those whose base build is gone (a temporary image
 * cache's, or a build removed by hand): nothing can restore them. Those a VM stands on are kept and named.
 */
export async function pruneSavedBoots(
  root: string,
  options: { unusedForMs: number; now: number; runDirs: string[] },
): Promise<{ removed: SavedBootDir[]; inUse: SavedBootDir[] }> {
  const old = (await listSavedBoots(root)).filter((saved) => saved.baseGone || options.now - saved.lastUsed.getTime() >= options.unusedForMs);
  return removeInTurn(old, options.runDirs, () => true);
}

/**
 * Removes `boots` one after the other while `goOn()` says so, skipping those a VM stands on or
 * whose lock a boot holds. @returns those removed and those kept because they are in use.
 */
export async function removeInTurn(
  boots: SavedBootDir[],
  runDirs: string[],
  goOn: () => boolean | Promise<boolean>,
): Promise<{ removed: SavedBootDir[]; inUse: SavedBootDir[] }> {
  const removed: SavedBootDir[] = [];
  const kept: SavedBootDir[] = [];
  const used = boots.length ? await filesInUse(runDirs) : new Set<string>();
  for (const saved of boots) {
    if (!(await goOn())) break;
    if (await inUse(saved, used)) {
      kept.push(saved);
      continue;
    }
    await removeSavedBoot(saved);
    removed.push(saved);
  }
  return { removed, inUse: kept };
}

/** Its directory, and a lock and holder record a killed run left beside it. */
async function removeSavedBoot(saved: SavedBootDir): Promise<void> {
  await fs.rm(saved.dir, { recursive: true, force: true });
  const { lock, holder } = savedBootLockFiles(saved.dir);
  await fs.rm(lock, { recursive: true, force: true });
  await fs.rm(holder, { force: true });
}
