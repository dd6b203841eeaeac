import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs Playwright on a nested suite (its own config), e.g. to check workers or reports.
 * Its output goes to a fresh temp dir unless `--output` is given: a nested run empties its
 * output dir, and must never empty the outer run's test-results/.
 */
export async function runNested(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const config = join(dir, 'playwright.config.ts');
  const temp = args.some((a) => a.startsWith('--output')) ? undefined : mkdtempSync(join(tmpdir(), 'demotool-nested-'));
  try {
    return await execa('npx', ['playwright', 'test', '-c', config, ...(temp ? [`--output=${temp}`] : []), ...args], {
      reject: false,
      env: { ...env, CI: '' },
      all: true,
      timeout: 15 * 60_000,
    });
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}
