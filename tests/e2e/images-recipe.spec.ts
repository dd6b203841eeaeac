/**
 * Recipes: tiny plus a Debian package (hello, with its libc closure from the host's apt), a file
 * and a first-boot command. Built once, reused while unchanged (in code or YAML), built again
 * under a new name after a change; the package runs in the guest. A throwaway cache: tiny's
 * recipe builds need no base image (its builder runs again, ~30 s), so the shared cache is untouched.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDemo, type ImageRecipe } from '../../src/index.js';
import { UsageError } from '../../src/errors.js';
import { ImageBuildError, ImageCache } from '../../src/images/index.js';

test.describe.configure({ mode: 'serial', timeout: 12 * 60_000 });

let work: string;
let dir: string;
test.beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-recipe-'));
  dir = path.join(work, 'cache', 'demotool', 'images');
});
test.afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const recipeA: ImageRecipe = { base: 'tiny', packages: ['hello'], firstBoot: ['echo first-boot-ran-$((6 * 7))'] };
const recipeB: ImageRecipe = { ...recipeA, files: { '/etc/demo-note': { content: 'recipe-file-ok\n' } } };

/** ensure() and the build steps it reported (none: the cached image was reused). */
async function ensureWithSteps(cache: ImageCache, recipe: ImageRecipe) {
  const steps: string[] = [];
  const image = await cache.ensure(recipe, { onProgress: (p) => steps.push(p.step) });
  return { image, steps };
}

test('a recipe with an extra package builds once, is reused while unchanged, is built again after a change, and the package runs in the guest', async ({}, info) => {
  const cache = new ImageCache({ dir });
  const a = await ensureWithSteps(cache, recipeA);
  expect(a.image.name).toMatch(/^tiny-r-[0-9a-f]{12}$/);
  expect(a.steps).toContain('recipe packages');
  const mtime = (await fs.stat(a.image.path)).mtimeMs;

  // The same recipe, its keys in another order: the same image, not built again.
  const again = await ensureWithSteps(cache, { firstBoot: recipeA.firstBoot!, packages: ['hello'], base: 'tiny' });
  expect(again.steps).toEqual([]);
  expect(again.image.path).toBe(a.image.path);
  expect((await fs.stat(a.image.path)).mtimeMs).toBe(mtime);

  // A changed recipe (one file more): a new image, built; the old one stays for `images prune`.
  const b = await ensureWithSteps(cache, recipeB);
  expect(b.image.name).toMatch(/^tiny-r-[0-9a-f]{12}$/);
  expect(b.image.name).not.toBe(a.image.name);
  expect(b.steps).toContain('recipe packages');
  expect(existsSync(a.image.path)).toBe(true);
  const listed = await cache.list();
  expect(listed.find((i) => i.name === a.image.name)?.source).toBe('recipe tiny (+hello, 1 first-boot command)');
  expect(listed.find((i) => i.name === b.image.name)?.source).toBe('recipe tiny (+hello, 1 file, 1 first-boot command)');

  // Boot the recipe itself: its image is found (no build), the first-boot command ran before the
  // VM was ready, and the package's program runs (a glibc binary on busybox: its libraries came too).
  await startDemo('recipe', { outputDir: info.outputPath('v'), imageCache: cache }, (demo) =>
    demo.vm(recipeB, { start: 'cold', accel: 'tcg' }, async (vm) => {
      expect(vm.image.path).toBe(b.image.path);
      await vm.waitForSerial('first-boot-ran-42', { timeout: 10_000 });
      await vm.waitForStableScreen({ duration: 1000 });
      // Keys typed while the console's shell is still starting are lost on a loaded host: type again.
      for (let attempt = 1; ; attempt++) {
        const from = vm.serial.mark();
        await vm.keyboard.type('echo "RAN[$(hello)][$(cat /etc/demo-note)]" > /dev/ttyS0\n', { delay: 0 });
        const ran = await vm.waitForSerial('RAN[Hello, world!][recipe-file-ok]', { from, timeout: 20_000 }).then(
          () => true,
          (e: unknown) => (attempt < 3 ? false : Promise.reject(e)),
        );
        if (ran) break;
      }
    }),
  );
});

test('the same recipe in YAML (demotool images build --recipe) is the same image, reused; images list shows its recipe', async () => {
  const cli = (...args: string[]) =>
    execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false, all: true, env: { XDG_CACHE_HOME: path.join(work, 'cache') } });
  const yaml = path.join(work, 'recipe.yaml');
  const note = path.join(work, 'note.txt');
  await fs.writeFile(note, 'recipe-file-ok\n');
  await fs.chmod(note, 0o644);
  // The file from the host, named relative to the YAML file: same content and mode, so the same name as recipeB.
  await fs.writeFile(
    yaml,
    ['base: tiny', 'packages: [hello]', 'files:', '  /etc/demo-note: note.txt', 'firstBoot:', "  - 'echo first-boot-ran-$((6 * 7))'", ''].join('\n'),
  );
  const b = await new ImageCache({ dir }).ensure(recipeB);
  const built = await cli('images', 'build', '--recipe', yaml);
  expect(built.exitCode, built.all).toBe(0);
  expect(built.all).toContain(`ready: ${b.path}`);
  // Reused: no build step was printed.
  expect(built.all).not.toMatch(/\] (kernel|initramfs|recipe packages)/);
  const list = await cli('images', 'list');
  expect(list.all).toMatch(new RegExp(`${b.name} .*recipe tiny \\(\\+hello, 1 file, 1 first-boot command\\)`));

  const bad = path.join(work, 'bad.yaml');
  await fs.writeFile(bad, 'base: tiny\npackages: [Hello World]\n');
  const refused = await cli('images', 'build', '--recipe', bad);
  expect(refused.exitCode).not.toBe(0);
  expect(refused.all).toContain('packages.0');
});

test('a bad recipe is refused before anything is built: a clear error naming the field', async ({}, info) => {
  const cache = new ImageCache({ dir: path.join(work, 'bad-cache') });
  const cases: [unknown, RegExp][] = [
    [{ base: 'tinyy' }, /image recipe option base/],
    [{ base: 'tiny', pakages: ['hello'] }, /unknown image recipe option "pakages"/],
    [{ base: 'tiny', packages: ['Hello World'] }, /packages\.0: a Debian package name/],
    [{ base: 'tiny', files: { 'etc/x': { content: '' } } }, /"etc\/x" is not an absolute guest path/],
    [{ base: 'tiny', files: { '/etc/x': path.join(work, 'missing.txt') } }, /files\.\/etc\/x: .*missing\.txt does not exist/],
    [{ base: 'tiny', firstBoot: [''] }, /firstBoot\.0: a shell command/],
  ];
  for (const [recipe, message] of cases) {
    const e = await cache.ensure(recipe as ImageRecipe).catch((x: unknown) => x);
    expect(e, JSON.stringify(recipe)).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(message);
  }
  // A bad VM option with a recipe: refused before the recipe is built.
  await startDemo('recipe-bad', { outputDir: info.outputPath('v'), imageCache: cache }, async (demo) => {
    await expect(demo.vm(recipeA, { resources: { cpus: 0 } })).rejects.toBeInstanceOf(UsageError);
  });
  expect(existsSync(cache.dir) ? await fs.readdir(cache.dir) : []).toEqual([]);
  // A package the host's apt doesn't know fails the build, naming it (and leaves no image).
  const unknown = await cache.ensure({ base: 'tiny', packages: ['no-such-package-demotool'] }).catch((x: unknown) => x);
  expect(unknown).toBeInstanceOf(ImageBuildError);
  expect((unknown as Error).message).toMatch(/no package no-such-package-demotool in the host's apt sources/);
  expect((await cache.list()).length).toBe(0);
});
