import { isBuiltIn } from '../names.js';
import { buildDesktop } from './desktop.js';
import { buildTiny } from './tiny.js';
import type { Builder } from './types.js';

const builtIns: Record<string, Builder> = {
  tiny: buildTiny,
  'debian-12-desktop': buildDesktop,
};

export function builderName(name: string): string {
  return isBuiltIn(name) ? name : 'virt-builder';
}

export function builderFor(name: string): Builder {
  const b = builtIns[name];
  if (b) return b;
  throw new Error(`no builder for ${name} yet`);
}
