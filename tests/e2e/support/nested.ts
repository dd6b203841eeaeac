import { execa } from 'execa';
import { join } from 'node:path';

/** Runs Playwright on a nested suite (its own config), e.g. to check workers or reports. */
export async function runNested(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const config = join(dir, 'playwright.config.ts');
  return execa('npx', ['playwright', 'test', '-c', config, ...args], {
    reject: false,
    env: { ...env, CI: '' },
    all: true,
    timeout: 15 * 60_000,
  });
}
