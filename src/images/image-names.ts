import os from 'node:os';
import path from 'node:path';
import { xdgCache } from 'xdg-basedir';
import { closestName } from '../closest-name.js';
import { UsageError } from '../errors.js';
import { domainImageName, domainSpecName } from './domain-image.js';

/** Images demotool builds itself. A virt-builder template is named `virt-builder:TEMPLATE`. */
export const builtInImageNames = ['tiny', 'debian-12-desktop'] as const;
export type BuiltInImageName = (typeof builtInImageNames)[number];

export function isBuiltIn(name: string): name is BuiltInImageName {
  return (builtInImageNames as readonly string[]).includes(name);
}

/** A recipe's image (src/images/recipe.ts): its base, `-r-` and 12 hex digits of the recipe's hash. */
export const RECIPE_NAME_RE = /^(tiny|debian-12-desktop)-r-[0-9a-f]{12}$/;

export function recipeImageName(base: BuiltInImageName, hash: string): string {
  return `${base}-r-${hash}`;
}

/** The prefix that names a virt-builder template explicitly: `virt-builder:fedora-42`. */
export const VIRT_BUILDER_PREFIX = 'virt-builder:';

// Same alphabet as virt-builder template names; no slash, so a name can't escape the cache dir.
const NAME_RE = /^[a-z0-9][a-z0-9.-]*$/;

const NAMES_HINT =
  `built-in images: ${builtInImageNames.join(', ')}; a virt-builder template is written ` +
  `${VIRT_BUILDER_PREFIX}TEMPLATE (e.g. ${VIRT_BUILDER_PREFIX}fedora-42; \`virt-builder --list\` lists them); a local disk file or an ISO is written file:PATH; an existing libvirt domain's disk domain:NAME`;

export function assertImageName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > 100 || name.includes('..')) {
    throw new UsageError(`Invalid image name ${JSON.stringify(name)}: use lowercase letters, digits, '.' and '-' (e.g. 'tiny', 'fedora-42')`, NAMES_HINT);
  }
}

/**
 * The cache name of an image as the user wrote it: `virt-builder:fedora-42` is cached as
 * `fedora-42`, any other name as itself. Checks the spelling only (see imageNameKind for
 * whether a name is known).
 */
export function cacheName(spec: unknown): string {
  if (typeof spec === 'string' && spec.startsWith('file:'))
    throw new UsageError(`${JSON.stringify(spec)}: a local file has no cache name until it is imported`, 'use the name `demotool images import FILE` prints');
  const domain = typeof spec === 'string' ? domainSpecName(spec) : undefined;
  if (domain !== undefined) return domainImageName(domain);
  if (typeof spec === 'string' && spec.startsWith(VIRT_BUILDER_PREFIX)) {
    const template = spec.slice(VIRT_BUILDER_PREFIX.length);
    assertImageName(template);
    if (isBuiltIn(template))
      throw new UsageError(
        `${JSON.stringify(spec)}: ${template} is a built-in image, not a virt-builder template`,
        `write '${template}' for the built-in image`,
      );
    return template;
  }
  assertImageName(spec);
  return spec;
}

/**
 * Operating systems of virt-builder's template names (`virt-builder --list`: fedora-42,
 * debian-12, ubuntu-24.04, centosstream-9...). A bare name of this shape is still taken as a
 * template, with a deprecation warning; any other unknown bare name is refused.
 */
const VIRT_BUILDER_TEMPLATE_RE =
  /^(alma|almalinux|alpine|archlinux|centos|centosstream|cirros|debian|fedora|freebsd|opensuse|oraclelinux|rhel|rocky|scientificlinux|ubuntu)-[0-9a-z][a-z0-9.-]*$/;

/** The built-in name `name` is most likely a typo of. */
export function closestBuiltIn(name: string): BuiltInImageName | undefined {
  return closestName(name, builtInImageNames) as BuiltInImageName | undefined;
}

/** What an image name stands for. `cached`: an image of that name is in the cache (built before, or placed by hand). */
export type ImageNameKind = 'built-in' | 'virt-builder' | 'virt-builder-bare' | 'cached' | 'domain';

/**
 * Decides, from the name alone (no network, no build), what `spec` names; an unknown name
 * is a UsageError that lists the built-in images and suggests the closest. A typo of a
 * built-in name is never taken as a virt-builder template, even one of template shape
 * ('debian-12-destkop').
 */
export function imageNameKind(spec: unknown, isCached: (name: string) => boolean = () => false): ImageNameKind {
  const name = cacheName(spec);
  if (typeof spec === 'string' && domainSpecName(spec) !== undefined) return 'domain';
  if (spec !== name) return 'virt-builder';
  if (isBuiltIn(name)) return 'built-in';
  // Only its recipe can build a recipe image: by name, it must be in the cache.
  if (RECIPE_NAME_RE.test(name)) {
    if (isCached(name)) return 'cached';
    throw new UsageError(
      `Image '${name}' is a recipe's image and is not in the cache`,
      'boot the recipe itself (demo.vm(recipe)), or build it: demotool images build --recipe FILE',
    );
  }
  const closest = closestBuiltIn(name);
  if (closest) throw new UsageError(`Unknown image '${name}': did you mean '${closest}'?`, NAMES_HINT);
  if (VIRT_BUILDER_TEMPLATE_RE.test(name)) return 'virt-builder-bare';
  if (isCached(name)) return 'cached';
  throw new UsageError(`Unknown image '${name}'`, NAMES_HINT);
}

/**
 * Default cache dir: $XDG_CACHE_HOME/demotool/images. Read from the environment at call time
 * (xdg-basedir's constant is frozen at module load, which tests that set XDG_CACHE_HOME can't use).
 */
export function defaultImageDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || xdgCache || path.join(os.homedir(), '.cache');
  return path.join(base, 'demotool', 'images');
}

/** Every file an image owns in the cache dir. */
export function imageFiles(dir: string, name: string) {
  const at = (suffix: string) => path.join(dir, `${name}${suffix}`);
  return {
    qcow2: at('.qcow2'),
    sidecar: at('.json'),
    kernel: at('.vmlinuz'),
    initrd: at('.initrd'),
    lock: at('.lock'),
    /** An ISO image's copy (src/images/iso.ts): content-addressed, so never versioned. */
    iso: at('.iso'),
  };
}

/**
 * The files of one build of an image: `{name}_{buildId}.qcow2|.vmlinuz|.initrd`. A rebuild
 * writes new files beside the old ones, never over them: running VMs' overlays name their
 * base file by path, so a base once used must keep its path and content. `_` is outside the
 * name alphabet, so these never belong to another image.
 */
export function versionFiles(dir: string, name: string, buildId: string) {
  const at = (suffix: string) => path.join(dir, `${name}_${buildId}${suffix}`);
  return { qcow2: at('.qcow2'), kernel: at('.vmlinuz'), initrd: at('.initrd') };
}

/** A new build id: UTC time to the second, then 4 random hex digits ('20261126-021533-a3f9'). */
export function newBuildId(now = new Date(), random = Math.random): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const r = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${t}-${r}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Which build of `name` a file in the cache dir belongs to: its build id, '' for the
 * unversioned `{name}.qcow2|.vmlinuz|.initrd` (images from before versioning, or placed by
 * hand), undefined when it is not one of this image's disk, kernel, initrd or ISO files.
 */
export function versionOf(name: string, file: string): string | undefined {
  const m = new RegExp(`^${escapeRe(name)}(?:_([0-9a-z-]+))?\\.(qcow2|vmlinuz|initrd|iso)$`).exec(file);
  return m ? (m[1] ?? '') : undefined;
}

/**
 * Leftovers of a build of `name` that died, matched exactly: temp files
 * (`{name}.qcow2.tmp-{pid}-{hex}`, `{name}.json.tmp-{pid}`) and build directories
 * (`{name}.build-XXXXXX`). Never another image's files: `tiny.build-x.qcow2` is image
 * `tiny.build-x`'s disk, not a leftover of `tiny`.
 */
export function isBuildLeftover(name: string, file: string): boolean {
  const n = escapeRe(name);
  return new RegExp(`^${n}\\.((qcow2|vmlinuz|initrd|iso)\\.tmp-\\d+-[0-9a-f]+|json\\.tmp-\\d+|build-[A-Za-z0-9]+)$`).test(file);
}
