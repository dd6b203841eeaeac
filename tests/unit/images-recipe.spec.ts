import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/errors.js';
import { ExhibitConfigError, parseExhibitConfig } from '../../src/exhibit/index.js';
import { mmdebstrapArgs } from '../../src/images/builders/desktop.js';
import { imageNameKind } from '../../src/images/image-names.js';
import { desktopRecipeScript } from '../../src/images/recipe-desktop.js';
import { parseDepends, tinyFileEntries } from '../../src/images/recipe-tiny.js';
import { recipeSource, resolveRecipe } from '../../src/images/recipe.js';

const recipeNumber = (n: number) => () => n;

test('the name is a hash of the recipe: key order and file order do not matter; any content, mode, package or base recipe number does', async () => {
  const base = { base: 'tiny', packages: ['hello'], files: { '/a': { content: 'x' }, '/b': { content: 'y', mode: 0o755 } } };
  const name = (await resolveRecipe(base, recipeNumber(12))).name;
  expect(name).toMatch(/^tiny-r-[0-9a-f]{12}$/);
  expect(
    (await resolveRecipe({ files: { '/b': { mode: 0o755, content: 'y' }, '/a': { content: 'x' } }, packages: ['hello'], base: 'tiny' }, recipeNumber(12))).name,
  ).toBe(name);
  const changed = [
    { ...base, packages: ['hello', 'sash'] },
    { ...base, files: { ...base.files, '/a': { content: 'z' } } },
    { ...base, files: { ...base.files, '/a': { content: 'x', mode: 0o600 } } },
    { ...base, firstBoot: ['true'] },
  ];
  for (const r of changed) expect((await resolveRecipe(r, recipeNumber(12))).name).not.toBe(name);
  expect((await resolveRecipe(base, recipeNumber(13))).name).not.toBe(name);
  expect((await resolveRecipe({ ...base, base: 'debian-12-desktop' }, recipeNumber(12))).name).toMatch(/^debian-12-desktop-r-[0-9a-f]{12}$/);
});

test("a host file's content and mode are in the name; a missing one is a UsageError naming the field", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'recipe-unit-'));
  try {
    await fs.writeFile(path.join(dir, 'app'), 'v1');
    await fs.chmod(path.join(dir, 'app'), 0o755);
    const r = { base: 'tiny', files: { '/usr/local/bin/app': 'app' } };
    const first = await resolveRecipe(r, recipeNumber(1), dir);
    expect(first.files).toEqual([{ guestPath: '/usr/local/bin/app', data: Buffer.from('v1'), mode: 0o755 }]);
    await fs.writeFile(path.join(dir, 'app'), 'v2');
    expect((await resolveRecipe(r, recipeNumber(1), dir)).name).not.toBe(first.name);
    await expect(resolveRecipe({ base: 'tiny', files: { '/x': 'nope' } }, recipeNumber(1), dir)).rejects.toThrow(/files\.\/x: .*nope does not exist/);
    await expect(resolveRecipe({ base: 'tiny', files: { '/x': dir } }, recipeNumber(1), dir)).rejects.toThrow(/is not a file/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('apt-cache depends output: the first choice of each dependency, a virtual package by its first provider', () => {
  const out = [
    'app',
    '  Depends: libc6',
    ' |Depends: mawk',
    '  Depends: gawk',
    '  PreDepends: <debconf-2.0>',
    '    debconf',
    '    cdebconf',
    'libc6',
    '  Depends: libgcc-s1',
    '',
  ].join('\n');
  const { found, depends } = parseDepends(out);
  expect([...found]).toEqual(['app', 'libc6']);
  expect(depends).toEqual(['libc6', 'mawk', 'debconf', 'libgcc-s1']);
});

test("tiny: the recipe's files with their directories, and the first-boot script", () => {
  const entries = tinyFileEntries({
    base: 'tiny',
    name: 'tiny-r-000000000000',
    packages: [],
    files: [{ guestPath: '/opt/app/run', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 }],
    firstBoot: ['echo one', 'echo two'],
  });
  expect(entries.map((e) => `${e.type} ${e.path}`)).toEqual([
    'dir etc',
    'dir etc/demotool',
    'dir opt',
    'dir opt/app',
    'file opt/app/run',
    'file etc/demotool/first-boot.sh',
  ]);
  expect(entries.at(-1)).toMatchObject({ data: Buffer.from('echo one\necho two\n'), mode: 0o755 });
});

test('desktop: packages join mmdebstrap --include, the recipe is a last customize hook that writes its files and a first-boot unit', async () => {
  const args = mmdebstrapArgs(
    { asRoot: true, essential: '/e.sh', configure: '/c.sh', packages: ['hello'], recipe: '/r.sh' },
    { main: 'http://m', security: 'http://s' },
    '/t',
  );
  expect(args.find((a) => a.startsWith('--include='))).toMatch(/,xterm,.*hello$/);
  expect(args.filter((a) => a.startsWith('--customize-hook='))).toEqual([`--customize-hook=sh '/c.sh' "$1"`, `--customize-hook=sh '/r.sh' "$1"`]);
  const script = desktopRecipeScript(
    {
      base: 'debian-12-desktop',
      name: 'debian-12-desktop-r-000000000000',
      packages: ['hello'],
      files: [{ guestPath: "/home/demo/it's here.txt", data: Buffer.from('hi\n'), mode: 0o600 }],
      firstBoot: ['echo once'],
    },
    'demo',
  );
  // Run it on a scratch root, with chroot stubbed out: the files come out as given.
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'recipe-root-'));
  try {
    const stub = path.join(root, '.bin');
    await fs.mkdir(stub);
    await fs.writeFile(path.join(stub, 'chroot'), '#!/bin/sh\necho "chroot $*" >> "$(dirname "$0")/calls"\n', { mode: 0o755 });
    await execa('sh', ['-c', script, 'sh', root], { env: { PATH: `${stub}:${process.env.PATH}` } });
    expect(await fs.readFile(path.join(root, "home/demo/it's here.txt"), 'utf8')).toBe('hi\n');
    expect((await fs.stat(path.join(root, "home/demo/it's here.txt"))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(root, 'etc/demotool/first-boot.sh'), 'utf8')).toBe('echo once\n');
    const unit = await fs.readFile(path.join(root, 'etc/systemd/system/demotool-first-boot.service'), 'utf8');
    expect(unit).toContain('Before=getty@tty1.service');
    // StandardOutput=tty would leave ttyS0 root's, and the session's ready marker would never reach the host.
    expect(unit.replace(/^#.*$/gm, '')).not.toMatch(/StandardOutput=tty|TTYPath/);
    expect(await fs.readFile(path.join(stub, 'calls'), 'utf8')).toBe(
      `chroot ${root} chown -R demo:demo /home/demo\nchroot ${root} systemctl enable demotool-first-boot.service\n`,
    );
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test("a recipe image's name can't be built by name: only its recipe makes it", () => {
  expect(imageNameKind('tiny-r-0123456789ab', () => true)).toBe('cached');
  expect(() => imageNameKind('debian-12-desktop-r-0123456789ab')).toThrow(UsageError);
  expect(() => imageNameKind('debian-12-desktop-r-0123456789ab')).toThrow(/recipe's image and is not in the cache/);
});

test('images list names the recipe', () => {
  expect(recipeSource({ base: 'tiny', packages: ['hello', 'sash'], files: ['/a', '/b'], firstBoot: ['x'] })).toBe(
    'recipe tiny (+hello +sash, 2 files, 1 first-boot command)',
  );
  expect(recipeSource({ base: 'debian-12-desktop', packages: [], files: [], firstBoot: [] })).toBe('recipe debian-12-desktop');
});

test("an exhibit config's vm.image may be a recipe; a bad one is refused with its field", async () => {
  const config = await parseExhibitConfig('vm:\n  image:\n    base: tiny\n    packages: [hello]\n    firstBoot: ["echo hi"]\n', '/etc/demotool/art.yaml');
  expect(config.vm).toEqual({ image: { base: 'tiny', packages: ['hello'], firstBoot: ['echo hi'] } });
  // Host files are next to the config, as its other paths are.
  const withFiles = await parseExhibitConfig(
    'vm:\n  image:\n    base: tiny\n    files:\n      /opt/app: dist/app\n      /etc/motd: { content: hi }\n      /opt/abs: /srv/abs\n',
    '/etc/demotool/art.yaml',
  );
  expect(withFiles.vm).toEqual({
    image: { base: 'tiny', files: { '/opt/app': '/etc/demotool/dist/app', '/etc/motd': { content: 'hi' }, '/opt/abs': '/srv/abs' } },
  });
  const bad = await parseExhibitConfig('vm:\n  image:\n    base: tiny\n    packages: [Hello World]\n', '/etc/demotool/art.yaml').catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(ExhibitConfigError);
  expect((bad as Error).message).toMatch(/vm\.image/);
});
