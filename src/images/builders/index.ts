import { isBuiltIn } from '../image-names.js';
import { buildDesktop } from './desktop.js';
import { buildTiny } from './tiny.js';
import { buildWithVirtBuilder } from './virt-builder.js';
import type { Builder } from './types.js';

const builtIns: Record<string, Builder> = {
  tiny: buildTiny,
  'debian-12-desktop': buildDesktop,
};

/**
 * Bump when a built-in image's content changes (guest config, packages, cmdline): caches
 * holding an older build then rebuild it on the next ensure().
 */
const recipes: Record<string, number> = {
  tiny: 13,
  'debian-12-desktop': 9,
};

export function recipeFor(name: string): number | undefined {
  return recipes[name];
}

export function builderName(name: string): string {
  return isBuiltIn(name) ? name : 'virt-builder';
}

export function builderFor(name: string): Builder {
  return builtIns[name] ?? buildWithVirtBuilder;
}
