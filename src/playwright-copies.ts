/**
 * demotool/test must run on the same copy of Playwright Test as the runner: fixtures made by
 * one copy's `test.extend` are foreign to another copy's runner, which then fails every spec
 * with "Playwright Test did not expect test.use() to be called here". demotool/test checks,
 * before it imports Playwright (playwright-copy-check.ts), that one copy is in play.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UsageError } from './errors.js';

/** More than one copy of the `playwright` package (which @playwright/test re-exports) is in play. */
export class PlaywrightCopiesError extends UsageError {
  override readonly code: string = 'EPLAYWRIGHTCOPIES';
  constructor(
    /** The `playwright` package directories in play (real paths): the one demotool imports first. */
    readonly copies: string[],
  ) {
    super(
      `Two copies of Playwright Test are in play; demotool/test needs the one the runner uses:\n${copies.map((c) => `  ${c}`).join('\n')}`,
      '@playwright/test is a peer dependency of demotool: install one version in your project (`npm i -D @playwright/test`, ' +
        'then `npm dedupe`; `npm ls @playwright/test` shows who pulls in another) and run `npx playwright test` from that project',
    );
  }
}

/** The `playwright` package directory that `@playwright/test` resolves to from `dir`, or undefined. */
function playwrightFrom(dir: string): string | undefined {
  try {
    const test = createRequire(path.join(dir, 'noop.js')).resolve('@playwright/test/package.json');
    const core = createRequire(test).resolve('playwright/package.json');
    return realpathSync(path.dirname(core));
  } catch {
    return undefined;
  }
}

/** `playwright` package directories that modules already loaded (the runner's) came from. */
function loadedPlaywrights(loaded: string[]): string[] {
  const dirs = new Set<string>();
  for (const file of loaded) {
    const m = /^(.*[\\/]node_modules[\\/]playwright)[\\/]lib[\\/]/.exec(file);
    if (m?.[1]) dirs.add(m[1]);
  }
  return [...dirs].map((d) => {
    try {
      return realpathSync(d);
    } catch {
      return d;
    }
  });
}

export interface PlaywrightLocations {
  /** Where demotool's own files are: its `@playwright/test` import resolves from here. */
  demotoolDir: string;
  /** The project directory the runner was started in. */
  cwd: string;
  /** Files of CommonJS modules loaded so far: the running Playwright's are among them. */
  loaded: string[];
}

/**
 * The distinct copies of `playwright` in play: the one demotool imports, the ones the running
 * process has loaded, and the one the project directory resolves (real paths, in that order).
 */
export function playwrightCopies(at: PlaywrightLocations): string[] {
  const found = [playwrightFrom(at.demotoolDir), ...loadedPlaywrights(at.loaded), playwrightFrom(at.cwd)];
  return [...new Set(found.filter((d): d is string => d !== undefined))];
}

/** Throws PlaywrightCopiesError unless at most one copy of Playwright is in play. */
export function assertOnePlaywright(at: PlaywrightLocations): void {
  const copies = playwrightCopies(at);
  if (copies.length > 1) throw new PlaywrightCopiesError(copies);
}
