import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PlaywrightCopiesError, assertOnePlaywright, playwrightCopies } from '../../src/playwright-copies.js';
import { UsageError } from '../../src/errors.js';

let tmp: string;

/** A package directory with just its package.json. */
async function pkg(dir: string, name: string, version: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version }));
  return fs.realpath(dir);
}

test.beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-pw-copies-')));
});

test.afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

test('one hoisted copy: nothing to complain about', async () => {
  const project = path.join(tmp, 'project');
  await pkg(path.join(project, 'node_modules/@playwright/test'), '@playwright/test', '1.55.1');
  const playwright = await pkg(path.join(project, 'node_modules/playwright'), 'playwright', '1.55.1');
  const demotool = await pkg(path.join(project, 'node_modules/demotool'), 'demotool', '0.1.0');
  const at = { demotoolDir: path.join(demotool, 'dist/fixtures'), cwd: project, loaded: [path.join(playwright, 'lib/runner/index.js')] };
  expect(playwrightCopies(at)).toEqual([playwright]);
  expect(() => assertOnePlaywright(at)).not.toThrow();
});

test("a second copy under demotool's own node_modules: the error names both paths", async () => {
  const project = path.join(tmp, 'project');
  await pkg(path.join(project, 'node_modules/@playwright/test'), '@playwright/test', '1.55.1');
  const theirs = await pkg(path.join(project, 'node_modules/playwright'), 'playwright', '1.55.1');
  const demotool = await pkg(path.join(project, 'node_modules/demotool'), 'demotool', '0.1.0');
  await pkg(path.join(demotool, 'node_modules/@playwright/test'), '@playwright/test', '1.65.1');
  const ours = await pkg(path.join(demotool, 'node_modules/playwright'), 'playwright', '1.65.1');
  // The runner (the project's copy) is loaded; demotool's import would load its own.
  const at = { demotoolDir: path.join(demotool, 'dist/fixtures'), cwd: project, loaded: [path.join(theirs, 'lib/common/index.js'), '/elsewhere/x.js'] };
  expect(playwrightCopies(at)).toEqual([ours, theirs]);
  let err: unknown;
  try {
    assertOnePlaywright(at);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PlaywrightCopiesError);
  expect(err).toBeInstanceOf(UsageError);
  const e = err as PlaywrightCopiesError;
  expect(e.code).toBe('EPLAYWRIGHTCOPIES');
  expect(e.copies).toEqual([ours, theirs]);
  expect(e.message).toContain(ours);
  expect(e.message).toContain(theirs);
  expect(e.hint).toContain('peer dependency');
  expect(e.hint).toContain('npm ls @playwright/test');
});

test('without a loaded runner, the project directory names the other copy', async () => {
  const project = path.join(tmp, 'project');
  await pkg(path.join(project, 'node_modules/@playwright/test'), '@playwright/test', '1.55.1');
  const theirs = await pkg(path.join(project, 'node_modules/playwright'), 'playwright', '1.55.1');
  const elsewhere = path.join(tmp, 'global');
  await pkg(path.join(elsewhere, 'node_modules/@playwright/test'), '@playwright/test', '1.60.0');
  const ours = await pkg(path.join(elsewhere, 'node_modules/playwright'), 'playwright', '1.60.0');
  const demotool = await pkg(path.join(elsewhere, 'node_modules/demotool'), 'demotool', '0.1.0');
  const at = { demotoolDir: demotool, cwd: project, loaded: [] };
  expect(() => assertOnePlaywright(at)).toThrow(PlaywrightCopiesError);
  expect(playwrightCopies(at)).toEqual([ours, theirs]);
});

test('this repository itself has one copy', () => {
  const copies = playwrightCopies({ demotoolDir: path.resolve('src'), cwd: process.cwd(), loaded: Object.keys(createRequire(import.meta.url).cache) });
  expect(copies).toHaveLength(1);
});
