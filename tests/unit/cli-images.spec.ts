/**
 * `demotool images list` on an empty cache, and `images remove`: a removal says what it removed,
 * and a name the cache doesn't hold is refused, with the nearest one, removing nothing. A temp
 * cache with a real qcow2 placed by hand.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

let tmp: string;
let images: string;

test.beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-cli-images-'));
  images = path.join(tmp, 'demotool', 'images');
});
test.afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'images', ...args], {
    env: { XDG_CACHE_HOME: tmp, DEMOTOOL_LOG_LEVEL: 'silent' },
    reject: false,
  });

test('images list on an empty cache says there are none, and where it looked', async () => {
  const r = await cli('list');
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toBe(`no images in ${images} (\`npx demotool setup\` builds tiny; a test that boots an image builds it)`);
});

test('images remove says what it removed; a misspelt name is refused with the nearest one, and nothing is removed', async () => {
  await fs.mkdir(images, { recursive: true });
  const disk = path.join(images, 'golden-desktop.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);

  const typo = await cli('remove', 'golden-destkop');
  expect(typo.exitCode).toBe(1);
  expect(typo.stderr).toContain(`no image "golden-destkop" in ${images}: did you mean "golden-desktop"?`);
  expect(typo.stderr).toContain('`demotool images list` shows the cached images');
  await expect(fs.stat(disk)).resolves.toBeTruthy();

  const unknown = await cli('remove', 'nothing-like-it');
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr).toContain(`no image "nothing-like-it" in ${images}`);
  expect(unknown.stderr).not.toContain('did you mean');

  const removed = await cli('remove', 'golden-desktop');
  expect(removed.exitCode, removed.stderr).toBe(0);
  expect(removed.stdout).toBe('removed golden-desktop');
  await expect(fs.stat(disk)).rejects.toThrow(/ENOENT/);
});
