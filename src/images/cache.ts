import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createLogger, type Logger } from '../log.js';
import { builderFor, builderName, recipeFor } from './builders/index.js';
import { removeTree } from './builders/rootfs.js';
import type { BuildContext, BuildProgress, VirtBuilderOptions } from './builders/types.js';
import { ImageValidationError } from './errors.js';
import { acquireBuildLock } from './lock.js';
import { assertImageName, builtInImageNames, defaultImageDir, imageFiles, isBuiltIn } from './names.js';
import { qemuImgCheck, qemuImgInfo } from './qemu-img.js';
import { fromSidecar, readSidecar, toSidecar, writeSidecar } from './sidecar.js';
import type { BaseImage } from './types.js';

export interface ImageCacheOptions {
  /** Cache dir; default $XDG_CACHE_HOME/demotool/images (read when the cache is constructed). */
  dir?: string;
  log?: Logger;
}

export interface EnsureOptions {
  onProgress?: (p: BuildProgress) => void;
  virtBuilder?: VirtBuilderOptions;
  /** Build again even if a valid image is cached; the old one stays in use if the build fails. */
  rebuild?: boolean;
}

export interface CachedImage {
  name: string;
  path: string;
  sizeBytes: number;
  /** Set by list({ validate: true }). */
  valid?: boolean;
}

export type Validation = { ok: true } | { ok: false; reason: string };

/** What ensure() does with what it finds in the cache. */
export type EnsurePlan = 'reuse' | 'build' | 'delete-and-build' | 'build-keep-old';

/** A validation result; `outdated` = sound image made by an older recipe of a built-in builder. */
export type Checked = Validation & { outdated?: boolean };

export function planEnsure(found: { exists: boolean; validation: Checked }, rebuild = false): EnsurePlan {
  if (!found.exists) return 'build';
  if (found.validation.outdated) return 'build-keep-old';
  if (!found.validation.ok) return 'delete-and-build';
  return rebuild ? 'build-keep-old' : 'reuse';
}

/** Default account of images demotool builds with virt-builder (the spec's demo user). */
const DEMO_USER = { name: 'demo', password: 'demokudasaidomo' };

export class ImageCache {
  readonly dir: string;
  readonly builtInImageNames = builtInImageNames;
  private readonly log: Logger;

  constructor(options: ImageCacheOptions = {}) {
    this.dir = path.resolve(options.dir ?? defaultImageDir());
    this.log = options.log ?? createLogger('images');
  }

  /** Path of `{name}.qcow2` in the cache (whether or not it exists). */
  pathFor(name: string): string {
    assertImageName(name);
    return imageFiles(this.dir, name).qcow2;
  }

  async validate(name: string): Promise<Validation> {
    const v = (await this.inspect(name)).validation;
    return v.ok ? { ok: true } : { ok: false, reason: v.reason };
  }

  /** The image, built first if it is missing or broken. Safe to call from many processes at once. */
  async ensure(name: string, options: EnsureOptions = {}): Promise<BaseImage> {
    assertImageName(name);
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
      if (found.validation.outdated) {
        this.log.info('cached image was built by an older recipe: rebuilding', { image: name, reason: found.validation.ok ? '' : found.validation.reason });
      }
      if (plan === 'delete-and-build') {
        const reason = found.validation.ok ? '' : found.validation.reason;
        this.log.warn('cached image is corrupt: deleting and rebuilding', { image: name, reason });
        await this.deleteFiles(name);
      }
      await this.removeTemps(name);
      return await this.build(name, options, plan === 'build-keep-old');
    } finally {
      await release().catch((e) => this.log.warn('image lock release failed', { image: name, error: String(e) }));
    }
  }

  async list(options: { validate?: boolean } = {}): Promise<CachedImage[]> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const names = entries.filter((f) => f.endsWith('.qcow2')).map((f) => f.slice(0, -'.qcow2'.length));
    const out: CachedImage[] = [];
    for (const name of names.sort()) {
      const file = path.join(this.dir, `${name}.qcow2`);
      const st = await fs.stat(file).catch(() => undefined);
      if (!st) continue;
      const item: CachedImage = { name, path: file, sizeBytes: st.size };
      if (options.validate) item.valid = (await this.validate(name)).ok;
      out.push(item);
    }
    return out;
  }

  /** Delete an image and its sidecar, kernel and initrd (waits for a build in progress). */
  async remove(name: string): Promise<void> {
    assertImageName(name);
    await fs.mkdir(this.dir, { recursive: true });
    const release = await acquireBuildLock(this.dir, imageFiles(this.dir, name).lock, name, this.log);
    try {
      await this.deleteFiles(name);
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async inspect(name: string): Promise<{ exists: boolean; validation: Checked }> {
    assertImageName(name);
    const f = imageFiles(this.dir, name);
    const exists = await Promise.all([f.qcow2, f.sidecar, f.kernel, f.initrd].map(exists_)).then((a) => a.some(Boolean));
    return { exists, validation: await this.check(name) };
  }

  /** Full check; `structural` skips the recipe version (is the old image still usable?). */
  private async check(name: string, structural = false): Promise<Checked> {
    const f = imageFiles(this.dir, name);
    const bad = (reason: string): Checked => ({ ok: false, reason });
    try {
      await fs.access(f.qcow2, fs.constants.R_OK);
    } catch (e) {
      return bad(`${f.qcow2} is missing or unreadable (${(e as NodeJS.ErrnoException).code})`);
    }
    try {
      const info = await qemuImgInfo(f.qcow2);
      if (info.format !== 'qcow2') return bad(`${f.qcow2} is ${info.format}, not qcow2`);
      if (info.backingFile) return bad(`${f.qcow2} has a backing file (${info.backingFile}); a base image must not`);
    } catch (e) {
      return bad(`${f.qcow2}: ${(e as Error).message}`);
    }
    const checked = await qemuImgCheck(f.qcow2);
    if (!checked.ok) return bad(`${f.qcow2}: ${checked.reason}`);
    const sidecar = await this.checkSidecar(name);
    return sidecar.ok && !structural ? this.checkRecipe(name) : sidecar;
  }

  private async checkRecipe(name: string): Promise<Checked> {
    const want = recipeFor(name);
    if (want === undefined) return { ok: true };
    const have = (await readSidecar(imageFiles(this.dir, name).sidecar)).recipe ?? 0;
    if (have === want) return { ok: true };
    return { ok: false, outdated: true, reason: `built by recipe ${have} of the ${name} builder; the current one is ${want}` };
  }

  private async checkSidecar(name: string): Promise<Validation> {
    const f = imageFiles(this.dir, name);
    if (!isBuiltIn(name) && !(await exists_(f.sidecar))) return { ok: true };
    try {
      const image = fromSidecar(await readSidecar(f.sidecar), f.qcow2);
      for (const file of image.boot ? [image.boot.kernel, image.boot.initrd] : []) {
        const st = await fs.stat(file).catch(() => undefined);
        if (!st?.size) return { ok: false, reason: `${file} (boot file named by ${f.sidecar}) is missing or empty` };
      }
      if (isBuiltIn(name) && !image.boot) return { ok: false, reason: `${f.sidecar} has no boot spec` };
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: `sidecar ${f.sidecar}: ${(e as Error).message}` };
    }
  }

  /** BaseImage of a valid cached image. Images placed by hand (no sidecar) get virt-builder defaults. */
  private async load(name: string): Promise<BaseImage> {
    const f = imageFiles(this.dir, name);
    if (await exists_(f.sidecar)) return fromSidecar(await readSidecar(f.sidecar), f.qcow2);
    return { name, path: f.qcow2, guestAgent: false, user: DEMO_USER };
  }

  private async build(name: string, options: EnsureOptions, keepOld: boolean): Promise<BaseImage> {
    const f = imageFiles(this.dir, name);
    const suffix = `.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    const out = { qcow2: f.qcow2 + suffix, kernel: f.kernel + suffix, initrd: f.initrd + suffix };
    const started = Date.now();
    let lastStep = '';
    const ctx: BuildContext = {
      name,
      dir: this.dir,
      out,
      log: this.log,
      virtBuilder: options.virtBuilder,
      progress: (step, percent) => {
        if (step !== lastStep) this.log.info('image build step', { image: name, step });
        lastStep = step;
        options.onProgress?.({ image: name, step, percent });
      },
    };
    this.log.info('building image', { image: name, builder: builderName(name), dir: this.dir });
    try {
      const result = await builderFor(name)(ctx);
      const { cmdline, ...meta } = result;
      const image: BaseImage = { name, path: f.qcow2, ...meta };
      if (cmdline !== undefined) {
        image.boot = { kernel: f.kernel, initrd: f.initrd, cmdline };
        await fs.rename(out.kernel, f.kernel);
        await fs.rename(out.initrd, f.initrd);
      }
      await fs.rename(out.qcow2, f.qcow2);
      await writeSidecar(f.sidecar, { ...toSidecar(image, builderName(name)), recipe: recipeFor(name) });
      const v = await this.check(name);
      if (!v.ok) {
        await this.deleteFiles(name);
        throw new ImageValidationError({ image: name, step: 'validate new image', reason: v.reason, hint: 'this is a demotool bug or a broken host tool; rerun with DEMOTOOL_LOG_LEVEL=debug' });
      }
      const size = (await fs.stat(f.qcow2)).size;
      this.log.info('image ready', { image: name, seconds: Math.round((Date.now() - started) / 1000), sizeMiB: Math.round(size / 2 ** 20) });
      return image;
    } catch (e) {
      // The spec: log the failure with file:line; fall back to a sound cached image if there is one.
      const fallback = keepOld && (await this.check(name, true)).ok;
      this.log.error(fallback ? 'image build failed; using the cached image' : 'image build failed', {
        image: name,
        error: e instanceof Error ? e.message : String(e),
      });
      if (fallback) return this.load(name);
      throw e;
    } finally {
      await Promise.all(Object.values(out).map((p) => fs.rm(p, { force: true })));
    }
  }

  private async deleteFiles(name: string): Promise<void> {
    const f = imageFiles(this.dir, name);
    // Sidecar first: without it a half-deleted image never looks valid.
    for (const p of [f.sidecar, f.qcow2, f.kernel, f.initrd]) await fs.rm(p, { force: true });
  }

  /** Temp files of builds that died (we hold the lock, so nobody else is writing them). */
  private async removeTemps(name: string): Promise<void> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const re = new RegExp(`^${name.replace(/\./g, '\\.')}\\.((qcow2|vmlinuz|initrd|json)\\.tmp-|build-)`);
    for (const e of entries.filter((n) => re.test(n))) {
      this.log.info('removing leftover temp file', { file: e });
      await removeTree(path.join(this.dir, e), this.log);
    }
  }
}

async function exists_(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
