import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs Playwright on a nested suite (its own config), e.g. to check workers or reports.
 * Its output goes to a fresh temp dir unless `--output` is given: a nested run empties its
 * output dir, and must never empty the outer run's test-results/.
 */
export async function runNested(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const config = join(dir, 'playwright.config.ts');
  const output = args.some((a) => a.startsWith('--output')) ? [] : [`--output=${mkdtempSync(join(tmpdir(), 'demotool-nested-'))}`];
  return execa('npx', ['playwright', 'test', '-c', config, ...output, ...args], {
    reject: false,
    env: { ...env, CI: '' },
    all: true,
    timeout: 15 * 60_000,
  });
}
