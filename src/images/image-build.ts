/** A new build of an image by its builder: made beside the current one, checked, then made current. */
import fs from 'node:fs/promises';
import type { Logger } from '../log.js';
import { builderFor, builderName, recipeFor } from './builders/index.js';
import type { BuildContext, BuildProgress, VirtBuilderOptions } from './builders/types.js';
import { ImageValidationError } from './errors.js';
import type { ImageBuilds } from './image-builds.js';
import { checkBuild, checkImage } from './image-check.js';
import { loadImage } from './image-entry.js';
import { imageFiles, newBuildId, versionFiles } from './image-names.js';
import { recipeSummary, type ResolvedRecipe } from './recipe.js';
import { toSidecar, writeSidecar } from './sidecar.js';
import type { BaseImage } from './types.js';

export interface EnsureOptions {
  onProgress?: (p: BuildProgress) => void;
  virtBuilder?: VirtBuilderOptions;
  /**
   * Build again even if a valid image is cached. The new build gets new files: VMs running on
   * the old one keep it (it is deleted once no overlay uses it); if the build fails, the old
   * one stays current.
   */
  rebuild?: boolean;
}

/** The cache a build goes into. Call buildImage with the image's build lock held. */
export interface BuildPlace {
  dir: string;
  log: Logger;
  builds: ImageBuilds;
}

/**
 * Builds into new versioned files, checks them, then makes them current by writing the
 * sidecar (one rename). The files of the build before are never touched here: running VMs
 * may stand on them. Builds nobody uses any more are pruned afterwards.
 */
export async function buildImage(at: BuildPlace, name: string, options: EnsureOptions, keepOld: boolean, recipe?: ResolvedRecipe): Promise<BaseImage> {
  // A recipe's image is made by its base's builder, given the recipe.
  const builder = recipe?.base ?? name;
  const f = imageFiles(at.dir, name);
  const out = versionFiles(at.dir, name, newBuildId());
  const started = Date.now();
  let lastStep = '';
  let published = false;
  const ctx: BuildContext = {
    name,
    dir: at.dir,
    out,
    log: at.log,
    virtBuilder: options.virtBuilder,
    ...(recipe && { recipe }),
    progress: (step, percent) => {
      if (step !== lastStep) at.log.info('image build step', { image: name, step });
      lastStep = step;
      options.onProgress?.({ image: name, step, percent });
    },
  };
  at.log.info('building image', { image: name, builder: builderName(builder), dir: at.dir });
  try {
    const result = await builderFor(builder)(ctx);
    const { cmdline, ...meta } = result;
    const image: BaseImage = { name, path: out.qcow2, ...meta };
    if (cmdline !== undefined) image.boot = { kernel: out.kernel, initrd: out.initrd, cmdline };
    const v = await checkBuild(image);
    if (!v.ok)
      throw new ImageValidationError({
        image: name,
        step: 'validate new image',
        reason: v.reason,
        hint: 'this is a demotool bug or a broken host tool; rerun with DEMOTOOL_LOG_LEVEL=debug',
      });
    await writeSidecar(f.sidecar, {
      ...toSidecar(image, builderName(builder)),
      recipe: recipeFor(builder),
      ...(recipe && { imageRecipe: recipeSummary(recipe) }),
    });
    published = true;
    await at.builds.pruneOld(name).catch((e) => at.log.warn('pruning old builds failed', { image: name, error: (e as Error).message }));
    const size = (await fs.stat(out.qcow2)).size;
    at.log.info('image ready', { image: name, path: out.qcow2, seconds: Math.round((Date.now() - started) / 1000), sizeMiB: Math.round(size / 2 ** 20) });
    return image;
  } catch (e) {
    // Log the failure with its file:line, and keep working on a sound cached image if there is one.
    const fallback = !published && keepOld && (await checkImage(at.dir, name, true)).ok;
    at.log.error(fallback ? 'image build failed; using the cached image' : 'image build failed', {
      image: name,
      error: e instanceof Error ? e.message : String(e),
    });
    if (fallback) return loadImage(at.dir, name);
    throw e;
  } finally {
    if (!published) await Promise.all(Object.values(out).map((p) => fs.rm(p, { force: true })));
  }
}
