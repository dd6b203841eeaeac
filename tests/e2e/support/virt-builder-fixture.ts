/**
 * The virt-builder test's template: built once per machine (tests/e2e/images-virt-builder.spec.ts),
 * and built before the bench times `npm test` (bench/suites.ts), so that no timed run pays for it.
 */
import os from 'node:os';
import path from 'node:path';

export const TEMPLATE = 'deb-local-test';
export const REVISION = 1;

/** Where the template is kept between runs; it is complete once its `index` is there. */
export function fixtureDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'demotool', 'test-fixtures', `virt-builder-${TEMPLATE}-r${REVISION}`);
}
