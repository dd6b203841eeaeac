import type { Logger } from '../../log.js';
import type { ResolvedRecipe } from '../recipe.js';
import type { BaseImage } from '../types.js';

export interface BuildProgress {
  /** Image being built. */
  image: string;
  /** Short step name: 'kernel', 'initramfs', 'mmdebstrap', 'virt-builder', 'convert'... */
  step: string;
  /** 0-100 when the tool tells us how far it is. */
  percent?: number;
}

export interface VirtBuilderOptions {
  /** Packages for `--install`; default ['@workstation-product-environment']. [] installs nothing. */
  install?: string[];
  /** More virt-builder arguments, appended as-is. */
  extraArgs?: string[];
  /** Extra environment, e.g. VIRT_BUILDER_DIRS / XDG_CONFIG_HOME pointing at a local repository. */
  env?: Record<string, string>;
}

export interface BuildContext {
  name: string;
  /** Cache dir; temp files live here so the final rename is atomic. */
  dir: string;
  /** Temp files the builder writes; the cache renames them into place on success. */
  out: { qcow2: string; kernel: string; initrd: string };
  log: Logger;
  progress(step: string, percent?: number): void;
  virtBuilder?: VirtBuilderOptions;
  /** A recipe's extra packages, files and first-boot commands (tiny and debian-12-desktop only). */
  recipe?: ResolvedRecipe;
}

/** What a builder knows about the image it made (the cache adds name and paths). */
interface BuildResult extends Omit<BaseImage, 'name' | 'path' | 'boot'> {
  /** Set when the builder wrote out.kernel and out.initrd for direct kernel boot. */
  cmdline?: string;
}

export type Builder = (ctx: BuildContext) => Promise<BuildResult>;
