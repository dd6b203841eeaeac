/**
 * `images prune`: what goes when an image cache is pruned by age, by size, or both. By age:
 * images, saved boots and kernel unpacks not used for a while. By size: least recently used
 * first, saved boots before images (a saved boot costs one cold boot to make again, an image a
 * build), until the cache fits. Never anything a VM stands on, nor an image placed by hand.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { pruneKernelUnpacks } from './builders/guest-kernel.js';
import { ContentHashes } from './content-hash.js';
import { DOMAIN_PREFIX } from './domain-image.js';
import { ImageInUseError } from './errors.js';
import { listSavedBoots, pruneSavedBoots, removeInTurn, type SavedBootDir } from './saved-boot-files.js';

/** What `ImageCache.prune` removes: what was not used for a while, then, over a size, the least recently used. */
export interface PruneOptions {
  /** Remove what was not used for this long (milliseconds). */
  unusedForMs?: number;
  /** Then, while the cache takes more disk space than this (bytes), remove the least recently used. */
  maxSizeBytes?: number;
  /** The time ages are measured from (default: now). */
  now?: Date;
}

/** What `ImageCache.prune` removed, and what it kept because a VM stands on it. */
export interface PruneResult {
  /** Images removed. */
  removed: string[];
  /** Images kept because a VM stands on them. */
  inUse: string[];
  /** Saved boots (warm starts) removed, and those kept because a VM stands on them or a boot holds their lock. */
  savedBoots: { removed: SavedBootDir[]; inUse: SavedBootDir[] };
  /** Kernel unpacks removed (a host without a kernel keeps the distribution's in the cache). */
  kernels: string[];
  /** With `maxSizeBytes`: the disk space the cache took before and after, in bytes. */
  size?: { beforeBytes: number; afterBytes: number; limitBytes: number };
}

/** The parts of an image cache that pruning removes from. */
export interface PrunableCache {
  dir: string;
  savedBootsDir: string;
  runDirs: string[];
  list(): Promise<{ name: string; source: string; lastUsed?: Date }[]>;
  remove(name: string): Promise<void>;
  diskUse(): Promise<{ imagesBytes: number; savedBootsBytes: number }>;
}

export async function pruneCache(cache: PrunableCache, options: PruneOptions): Promise<PruneResult> {
  checkPruneOptions(options);
  const now = (options.now ?? new Date()).getTime();
  const result: PruneResult = { removed: [], inUse: [], savedBoots: { removed: [], inUse: [] }, kernels: [] };
  if (options.unusedForMs !== undefined) await pruneByAge(cache, options.unusedForMs, now, result);
  if (options.maxSizeBytes !== undefined) result.size = await pruneToSize(cache, options.maxSizeBytes, result);
  return result;
}

function checkPruneOptions(options: PruneOptions): void {
  const { unusedForMs, maxSizeBytes } = options;
  const hint = 'give unusedForMs (e.g. 30 days: 2_592_000_000), maxSizeBytes (e.g. 8 GiB: 8 * 2 ** 30), or both';
  if (unusedForMs === undefined && maxSizeBytes === undefined) throw new UsageError('prune needs an age, a size or both: nothing says what to remove', hint);
  for (const [name, value] of Object.entries({ unusedForMs, maxSizeBytes }))
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      throw new UsageError(`prune's ${name} ${String(value)} is not a number from 0 up`, hint);
}

async function pruneByAge(cache: PrunableCache, unusedForMs: number, now: number, result: PruneResult): Promise<void> {
  result.savedBoots = await pruneSavedBoots(cache.savedBootsDir, { unusedForMs, now, runDirs: cache.runDirs });
  const old = (await cache.list()).filter((image) => image.lastUsed && now - image.lastUsed.getTime() >= unusedForMs);
  await removeImagesInTurn(cache, old, () => true, result);
  result.kernels = await pruneKernelUnpacks(path.join(cache.dir, 'kernels'), { unusedForMs, now });
  await ContentHashes.of(cache.dir).forgetUnused({ unusedForMs, now });
}

async function pruneToSize(cache: PrunableCache, limitBytes: number, result: PruneResult): Promise<PruneResult['size']> {
  const diskUse = () => cache.diskUse().then(({ imagesBytes, savedBootsBytes }) => imagesBytes + savedBootsBytes);
  const beforeBytes = await diskUse();
  const overLimit = async () => (await diskUse()) > limitBytes;
  const boots = await removeInTurn(leastRecentlyUsed(await listSavedBoots(cache.savedBootsDir)), cache.runDirs, overLimit);
  result.savedBoots.removed.push(...boots.removed);
  result.savedBoots.inUse.push(...boots.inUse.filter((b) => !result.savedBoots.inUse.some((k) => k.key === b.key)));
  // A domain's entry owns no file (its disk is the domain's): removing it frees nothing.
  const images = (await cache.list()).filter((i): i is typeof i & { lastUsed: Date } => !!i.lastUsed && !i.source.startsWith(DOMAIN_PREFIX));
  await removeImagesInTurn(cache, leastRecentlyUsed(images), overLimit, result);
  return { beforeBytes, afterBytes: await diskUse(), limitBytes };
}

/** Removes `images` one after the other while `goOn()` says so; those a VM stands on are named in `result.inUse`. */
async function removeImagesInTurn(
  cache: PrunableCache,
  images: { name: string }[],
  goOn: () => boolean | Promise<boolean>,
  result: PruneResult,
): Promise<void> {
  for (const { name } of images) {
    if (!(await goOn())) break;
    try {
      await cache.remove(name);
      result.removed.push(name);
    } catch (e) {
      if (!(e instanceof ImageInUseError)) throw e;
      if (!result.inUse.includes(name)) result.inUse.push(name);
    }
  }
}

function leastRecentlyUsed<T extends { lastUsed: Date }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime());
}

/** Disk space `dir` and what is under it take, as `du` counts it (allocated blocks: a sparse disk counts what it holds). */
export async function bytesUnder(dir: string): Promise<number> {
  const blocks = async (p: string) => ((await fs.lstat(p).catch(() => undefined))?.blocks ?? 0) * 512;
  let total = await blocks(dir);
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(p);
    else if (entry.isFile()) total += await blocks(p);
  }
  return total;
}
