import fs from 'node:fs/promises';
import path from 'node:path';
import { createLogger, type Logger } from '../log.js';
import { recipeFor } from './builders/index.js';
import { ImageValidationError } from './errors.js';
import { listSavedBoots, type SavedBootDir } from './saved-boot-files.js';
import { bytesUnder, pruneCache, type PruneOptions, type PruneResult } from './cache-prune.js';
import { ImageBuilds } from './image-builds.js';
import { buildImage, type EnsureOptions } from './image-build.js';
import { currentDisk, domainEntry, sidecarOf, type Checked, type Validation } from './image-check.js';
import { findImage, loadImage } from './image-entry.js';
import { acquireBuildLock } from './lock.js';
import {
  RECIPE_NAME_RE,
  VIRT_BUILDER_PREFIX,
  builtInImageNames,
  cacheName,
  defaultImageDir,
  imageFiles,
  imageNameKind,
  isBuiltIn,
  versionOf,
} from './image-names.js';
import { LOCAL_NAME_RE, localFilePath } from './local-file.js';
import { LocalImports } from './local-import.js';
import { ContentHashes } from './content-hash.js';
import { isRecipe, recipeSource, resolveRecipe, type ImageRecipe, type ResolvedRecipe } from './recipe.js';
import { ISO_NAME_RE } from './iso.js';
import type { BaseImage } from './types.js';
import { DOMAIN_PREFIX, domainImageName, domainSpecName, isDomainSource, type DomainSource } from './domain-image.js';
import { UsageError } from '../errors.js';
import { toSidecar, writeSidecar, type Sidecar } from './sidecar.js';

export interface ImageCacheOptions {
  /** Cache dir; default $XDG_CACHE_HOME/demotool/images (read when the cache is constructed). */
  dir?: string;
  log?: Logger;
  /**
   * Where overlays on these images live: a base that an overlay there stands on is never
   * deleted. Default: `run` and `exhibit` beside the cache dir (demotool's run directory, and
   * exhibit VMs' overlays, which stay while their VM is shut off). Bases held open by a
   * process (a running QEMU) are kept too, wherever its overlay is.
   */
  runDirs?: string[];
  /**
   * Saved boots (warm starts): one directory each, with a `disk.qcow2` standing on a build.
   * They are made from a build and go with it, unless an overlay stands on them. Default: `warm`
   * beside the cache dir.
   */
  savedBootsDir?: string;
}

export interface CachedImage {
  name: string;
  path: string;
  sizeBytes: number;
  /** Where it came from: 'built-in', 'virt-builder', the local file it was converted from, `recipe tiny (+hello)`, or 'placed by hand'. */
  source: string;
  /** When a VM boot last asked for it; else when it was built. */
  lastUsed?: Date;
  /** The hardware profile its sidecar names, if any. */
  hardware?: string;
  /** Set by list({ validate: true }). */
  valid?: boolean;
}

/** What ensure() does with what it finds in the cache. */
export type EnsurePlan = 'reuse' | 'build' | 'delete-and-build' | 'build-keep-old';

export function planEnsure(found: { exists: boolean; validation: Checked }, rebuild = false): EnsurePlan {
  if (!found.exists) return 'build';
  if (found.validation.outdated) return 'build-keep-old';
  if (!found.validation.ok) return 'delete-and-build';
  return rebuild ? 'build-keep-old' : 'reuse';
}

export class ImageCache {
  readonly dir: string;
  readonly builtInImageNames = builtInImageNames;
  private readonly log: Logger;
  private readonly runDirs: string[];
  /** Where warm starts' saved boots live (default: `warm` beside the cache); the VM layer saves and restores them there. */
  readonly savedBootsDir: string;
  private readonly builds: ImageBuilds;
  private readonly imports: LocalImports;

  constructor(options: ImageCacheOptions = {}) {
    this.dir = path.resolve(options.dir ?? defaultImageDir());
    this.log = options.log ?? createLogger('images');
    this.runDirs = (options.runDirs ?? ['run', 'exhibit'].map((d) => path.join(path.dirname(this.dir), d))).map((d) => path.resolve(d));
    this.savedBootsDir = path.resolve(options.savedBootsDir ?? path.join(path.dirname(this.dir), 'warm'));
    this.builds = new ImageBuilds({ dir: this.dir, runDirs: this.runDirs, savedBootsDir: this.savedBootsDir, log: this.log });
    // The hashes of local files and ISOs are remembered while the files are unchanged: they name the images made from them.
    this.imports = new LocalImports({ dir: this.dir, log: this.log, builds: this.builds, hashes: ContentHashes.of(this.dir) });
  }

  /**
   * Path of `{name}.qcow2` in the cache (whether or not it exists): where an image placed by
   * hand goes. Images demotool builds live in versioned files; ensure() returns the current one.
   */
  pathFor(spec: string): string {
    return imageFiles(this.dir, cacheName(spec)).qcow2;
  }

  async validate(spec: string): Promise<Validation> {
    const v = (await this.inspect(cacheName(spec))).validation;
    return v.ok ? { ok: true } : { ok: false, reason: v.reason };
  }

  /**
   * The image, built first if it is missing or broken. Safe to call from many processes at once.
   * `spec`: a built-in name ('tiny'), `virt-builder:TEMPLATE`, `file:PATH` (a local disk file,
   * converted once; see importFile), an image already in the cache, or a recipe (a built-in image
   * plus packages, files and first-boot commands; cached as `{base}-r-{hash}`, built when missing).
   * @throws {@link UsageError} for an unknown name or a bad recipe, before anything is built or downloaded.
   */
  async ensure(spec: string | ImageRecipe, options: EnsureOptions = {}): Promise<BaseImage> {
    if (isRecipe(spec)) return this.ensureRecipe(spec, options);
    const file = localFilePath(spec);
    if (!file) await this.refuseDomain(spec);
    const image = file ? await this.importFile(file) : await this.ensureNamed(spec, options);
    await this.markUsed(image.name);
    return image;
  }

  /**
   * A local disk file (qcow2, raw, vmdk or vdi) converted into the cache as qcow2, once per
   * content: the image is named `file-` + 16 hex digits of its sha256 (with a backing chain, of
   * every layer's). An ISO 9660 file is copied in as `iso-` + 16 hex digits. The file is only read.
   * @throws {@link UsageError} for a missing file or a directory; {@link ImageValidationError}
   * for an unsupported format or a missing backing file.
   */
  async importFile(file: string): Promise<BaseImage> {
    return this.imports.importFile(file);
  }

  /**
   * Records an existing libvirt domain's disk as the image `domain-NAME` (found through libvirt
   * by the API layer): a sidecar that points to the disk, which is never copied, written or
   * deleted. Recorded again at each boot, so the entry follows the domain and its last use is
   * the sidecar's mtime.
   */
  async recordDomain(source: DomainSource, meta: { hardware?: string; memoryMiB?: number } = {}): Promise<BaseImage> {
    const name = domainImageName(source.domain);
    const image: BaseImage = { name, path: source.path, format: source.format, guestAgent: false, ...meta };
    await fs.mkdir(this.dir, { recursive: true });
    const files = imageFiles(this.dir, name);
    const release = await acquireBuildLock(this.dir, files.lock, name, this.log);
    try {
      await writeSidecar(files.sidecar, { ...toSidecar(image, 'domain'), disk: undefined, source });
    } finally {
      await release().catch(() => undefined);
    }
    return image;
  }

  /** A domain is found through libvirt, which this layer does not use: the API layer boots it (see recordDomain). */
  private async refuseDomain(spec: string): Promise<void> {
    let domain = domainSpecName(spec);
    try {
      domain ??= (await domainEntry(this.dir, cacheName(spec)))?.domain;
    } catch {
      return; // not a name the cache knows: ensureNamed says why
    }
    if (domain !== undefined)
      throw new UsageError(
        `${JSON.stringify(spec)} is an existing libvirt domain's disk: the image cache can't boot it by itself`,
        `boot it as demo.vm('${DOMAIN_PREFIX}${domain}'), which checks the domain through libvirt each time`,
      );
  }

  /**
   * Records that a VM boot asked for the image: the sidecar's mtime (its content is never
   * rewritten here, so no lock is needed and no build's sidecar is lost). Images placed by hand
   * have none: their disk's mtime stays their last use.
   */
  private async markUsed(name: string): Promise<void> {
    const now = new Date();
    await fs
      .utimes(imageFiles(this.dir, name).sidecar, now, now)
      .catch((e: Error) => this.log.debug('could not record last use', { image: name, error: e.message }));
  }

  private async ensureNamed(spec: string, options: EnsureOptions): Promise<BaseImage> {
    return this.ensureBuilt(await this.checkName(spec), options);
  }

  /** The recipe's image, built when no valid one has its name (a changed recipe has a new name). */
  private async ensureRecipe(spec: ImageRecipe, options: EnsureOptions): Promise<BaseImage> {
    const recipe = await resolveRecipe(spec, recipeFor);
    const image = await this.ensureBuilt(recipe.name, options, recipe);
    await this.markUsed(image.name);
    return image;
  }

  private async ensureBuilt(name: string, options: EnsureOptions, recipe?: ResolvedRecipe): Promise<BaseImage> {
    await fs.mkdir(this.dir, { recursive: true });
    if (!options.rebuild) {
      const quick = await this.inspect(name);
      if (quick.validation.ok) return this.load(name);
    }
    const files = imageFiles(this.dir, name);
    const release = await acquireBuildLock(this.dir, files.lock, name, this.log);
    try {
      // Look again: whoever held the lock may just have built it.
      const found = await this.inspect(name);
      const plan = planEnsure(found, options.rebuild);
      if (plan === 'reuse') return await this.load(name);
      // A converted local file has no builder: only its file can make it again.
      if (LOCAL_NAME_RE.test(name) || ISO_NAME_RE.test(name))
        throw new ImageValidationError({
          image: name,
          step: 'validate',
          reason: found.validation.ok ? 'a converted local file can not be rebuilt' : found.validation.reason,
          hint: 'import the disk file again: demotool images import FILE (or boot file:PATH)',
        });
      if (RECIPE_NAME_RE.test(name) && !recipe)
        throw new ImageValidationError({
          image: name,
          step: 'validate',
          reason: found.validation.ok ? "a recipe's image is rebuilt from its recipe only" : found.validation.reason,
          hint: 'boot the recipe itself (demo.vm(recipe)), or build it: demotool images build --recipe FILE',
        });
      if (found.validation.outdated) {
        this.log.info('cached image was built by an older recipe: rebuilding', { image: name, reason: found.validation.ok ? '' : found.validation.reason });
      }
      if (plan === 'delete-and-build') {
        const reason = found.validation.ok ? '' : found.validation.reason;
        this.log.warn('cached image is corrupt: deleting and rebuilding', { image: name, reason });
        await this.builds.deleteAll(name);
      }
      // A test that boots an image nobody built yet waits for the build: say so, since the
      // default log level shows no progress (the CLI passes onProgress and prints its own).
      if (plan === 'build' && !options.onProgress)
        this.log.warn('image not in the cache: building it now', {
          image: name,
          dir: this.dir,
          hint: isBuiltIn(name)
            ? '`npx demotool setup` builds the built-in images ahead of the tests'
            : recipe
              ? '`npx demotool images build --recipe FILE` builds a recipe ahead of the tests'
              : `\`npx demotool images build ${VIRT_BUILDER_PREFIX}${name}\` builds it ahead of the tests`,
        });
      await this.builds.removeLeftovers(name);
      return await buildImage({ dir: this.dir, log: this.log, builds: this.builds }, name, options, plan === 'build-keep-old', recipe);
    } finally {
      await release().catch((e) => this.log.warn('image lock release failed', { image: name, error: String(e) }));
    }
  }

  /** Cached images (by sidecar, or a `{name}.qcow2` placed by hand), each with its current disk. */
  async list(options: { validate?: boolean } = {}): Promise<CachedImage[]> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const names = new Set<string>();
    for (const f of entries) {
      const m = /^([a-z0-9][a-z0-9.-]*)\.(qcow2|json)$/.exec(f);
      if (m?.[1] && !m[1].includes('..')) names.add(m[1]);
    }
    const out: CachedImage[] = [];
    for (const name of [...names].sort()) {
      const file = await currentDisk(this.dir, name);
      const st = await fs.stat(file).catch(() => undefined);
      // A domain's entry is listed even when its disk is gone, so it can be seen and removed.
      if (!st && !(await domainEntry(this.dir, name))) continue;
      const item: CachedImage = { name, path: file, sizeBytes: st?.size ?? 0, ...(await this.history(name)) };
      if (options.validate) item.valid = (await this.validate(name)).ok;
      out.push(item);
    }
    return out;
  }

  /** Disk space the images (with their kernel unpacks) and the saved boots take, as `du` counts it. */
  async diskUse(): Promise<{ imagesBytes: number; savedBootsBytes: number }> {
    const [imagesBytes, savedBootsBytes] = await Promise.all([bytesUnder(this.dir), bytesUnder(this.savedBootsDir)]);
    return { imagesBytes: imagesBytes!, savedBootsBytes: savedBootsBytes! };
  }

  /** The saved boots (warm starts) in the cache, each with the name of the image it was made from (undefined: an older build, or one no longer there). */
  async savedBoots(): Promise<(SavedBootDir & { image: string | undefined })[]> {
    const names = (await this.list()).map((i) => i.name);
    const imageOf = (base: string | undefined) =>
      base && path.dirname(path.resolve(this.dir, base)) === this.dir ? names.find((n) => versionOf(n, path.basename(base)) !== undefined) : undefined;
    return (await listSavedBoots(this.savedBootsDir)).map((b) => ({ ...b, image: imageOf(b.base) }));
  }

  /**
   * Where an image came from and when it was last used: the sidecar's mtime (its last boot, else
   * its build). An image placed by hand has no sidecar, so no known last use (prune keeps it).
   */
  private async history(name: string): Promise<{ source: string; lastUsed?: Date; hardware?: string }> {
    const sidecar = await sidecarOf(this.dir, name);
    const origin = sidecar?.source;
    const source = isDomainSource(origin)
      ? `${DOMAIN_PREFIX}${origin.domain}`
      : (origin?.path ?? (sidecar ? (isBuiltIn(name) ? 'built-in' : builtBy(sidecar)) : 'placed by hand'));
    const lastUsed = sidecar && (await fs.stat(imageFiles(this.dir, name).sidecar).catch(() => undefined))?.mtime;
    return { source: sidecar?.iso ? `ISO ${source}` : source, ...(lastUsed && { lastUsed }), ...(sidecar?.hardware && { hardware: sidecar.hardware }) };
  }

  /**
   * Removes what was not used for `unusedForMs`: images (by their last boot, else their build),
   * saved boots (by their last restore; those whose image is gone at any age) and kernel
   * unpacks. Then, with `maxSizeBytes`, while the cache (images and saved boots) takes more disk
   * space than that, the least recently used: saved boots first, then images. Whatever a VM
   * stands on is kept and named, and so are images placed by hand (their use is not recorded).
   * @throws {@link UsageError} without `unusedForMs` or `maxSizeBytes`, before removing anything.
   */
  async prune(options: PruneOptions): Promise<PruneResult> {
    return pruneCache(
      {
        dir: this.dir,
        savedBootsDir: this.savedBootsDir,
        runDirs: this.runDirs,
        list: () => this.list(),
        remove: (n) => this.remove(n),
        diskUse: () => this.diskUse(),
      },
      options,
    );
  }

  /**
   * Delete an image: its sidecar and every build's disk, kernel and initrd (waits for a build in
   * progress). Refused, deleting nothing, while VM overlays stand on any of its builds.
   */
  async remove(spec: string): Promise<void> {
    const name = cacheName(spec);
    await fs.mkdir(this.dir, { recursive: true });
    const release = await acquireBuildLock(this.dir, imageFiles(this.dir, name).lock, name, this.log);
    try {
      // A domain's entry owns no file but its sidecar: the disk is the domain's, never deleted.
      if (await domainEntry(this.dir, name)) return await fs.rm(imageFiles(this.dir, name).sidecar, { force: true });
      await this.builds.removeAll(name);
    } finally {
      await release().catch(() => undefined);
    }
  }

  private inspect(name: string): Promise<{ exists: boolean; validation: Checked }> {
    return findImage(this.dir, this.builds, name);
  }

  private load(name: string): Promise<BaseImage> {
    return loadImage(this.dir, name);
  }

  /**
   * The cache name of `spec`, or a UsageError naming the built-in images when `spec` is
   * unknown: decided from the name and the cache dir's listing, without building or network.
   */
  private async checkName(spec: string): Promise<string> {
    const name = cacheName(spec);
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const kind = imageNameKind(spec, (n) => entries.some((f) => f === `${n}.json` || versionOf(n, f) !== undefined));
    if (kind === 'virt-builder-bare' && !warnedBare.has(name)) {
      warnedBare.add(name);
      this.log.warn('deprecated: a bare virt-builder template name', { image: name, write: `${VIRT_BUILDER_PREFIX}${name}` });
    }
    return name;
  }
}

/** What made an image, for `images list`: its builder, or its recipe. */
const builtBy = (s: Sidecar) => (s.imageRecipe ? recipeSource(s.imageRecipe) : s.builder);

/** Bare template names already warned about in this process: one warning each. */
const warnedBare = new Set<string>();
