import { join, resolve } from 'node:path';
import { xdgCache } from 'xdg-basedir';
import { tmpdir } from 'node:os';
import { UsageError } from '../errors.js';

/** 'My Cool Demo!' → 'my-cool-demo'. Demo names become directory and VM names. */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  if (!s) throw new UsageError(`demo name ${JSON.stringify(name)} has no letters or digits`, 'use a name like "my-cool-demo"');
  return s;
}

/**
 * The spec's `demo-{demo-name}`, plus `-w{N}` inside a Playwright worker (two workers may run
 * the same demo) and `-{k}` for the k-th concurrent VM of one session.
 */
export function vmName(demo: string, options: { worker?: string; ordinal?: number } = {}): string {
  const worker = options.worker ?? process.env.TEST_PARALLEL_INDEX;
  let name = `demo-${slug(demo)}`;
  if (worker !== undefined && worker !== '') name += `-w${worker}`;
  if (options.ordinal && options.ordinal > 1) name += `-${options.ordinal}`;
  return name;
}

/** demo-videos/ under the current directory (the spec's output base). */
export function outputBase(cwd = process.cwd()): string {
  return resolve(cwd, 'demo-videos');
}

/** Where running VMs keep their overlay and serial log. Emptied as VMs go away. */
export function runDir(): string {
  return join(xdgCache ?? join(tmpdir(), 'demotool-cache'), 'demotool', 'run');
}

export function stateDir(): string {
  return join(xdgCache ?? join(tmpdir(), 'demotool-cache'), 'demotool');
}
