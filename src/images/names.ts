import os from 'node:os';
import path from 'node:path';
import { xdgCache } from 'xdg-basedir';
import { UsageError } from '../errors.js';

/** Images demotool builds itself; any other valid name is a virt-builder template. */
export const builtInImageNames = ['tiny', 'debian-12-desktop'] as const;
export type BuiltInImageName = (typeof builtInImageNames)[number];

export function isBuiltIn(name: string): name is BuiltInImageName {
  return (builtInImageNames as readonly string[]).includes(name);
}

// Same alphabet as virt-builder template names; no slash, so a name can't escape the cache dir.
const NAME_RE = /^[a-z0-9][a-z0-9.-]*$/;

export function assertImageName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > 100 || name.includes('..')) {
    throw new UsageError(
      `Invalid image name ${JSON.stringify(name)}: use lowercase letters, digits, '.' and '-' (e.g. 'tiny', 'fedora-42')`,
      `built-in images: ${builtInImageNames.join(', ')}; any other name is a virt-builder template (virt-builder --list)`,
    );
  }
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
  const r = Math.floor(random() * 0x10000).toString(16).padStart(4, '0');
  return `${t}-${r}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Which build of `name` a file in the cache dir belongs to: its build id, '' for the
 * unversioned `{name}.qcow2|.vmlinuz|.initrd` (images from before versioning, or placed by
 * hand), undefined when it is not one of this image's disk, kernel or initrd files.
 */
export function versionOf(name: string, file: string): string | undefined {
  const m = new RegExp(`^${escapeRe(name)}(?:_([0-9a-z-]+))?\\.(qcow2|vmlinuz|initrd)$`).exec(file);
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
  return new RegExp(`^${n}\\.((qcow2|vmlinuz|initrd)\\.tmp-\\d+-[0-9a-f]+|json\\.tmp-\\d+|build-[A-Za-z0-9]+)$`).test(file);
}
