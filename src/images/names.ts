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
