/**
 * `images prune --max-size` and kernel unpacks: real images imported into a temp cache with
 * qemu-img, saved boots with real frozen disks; the least recently used go first, saved boots
 * before images, until the cache fits; whatever a VM stands on stays and is named.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../../src/images/index.js';
import { listSavedBoots } from '../../src/images/saved-boot-files.js';
import { guestKernel } from '../../src/images/builders/guest-kernel.js';

const DAY = 86_400_000;
const MiB = 2 ** 20;
let tmp: string;
let images: string;
let warm: string;
let run: string;

// As the CLI finds them: XDG_CACHE_HOME/demotool/{images,warm,run}.
test.beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-prune-size-'));
  images = path.join(tmp, 'demotool', 'images');
  warm = path.join(tmp, 'demotool', 'warm');
  run = path.join(tmp, 'demotool', 'run');
  for (const dir of [images, warm, run]) await fs.mkdir(dir, { recursive: true });
});
test.afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const cache = () => new ImageCache({ dir: images, runDirs: [run], savedBootsDir: warm, log: quiet });
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

const backdate = (file: string, days: number) => fs.utimes(file, new Date(Date.now() - days * DAY), new Date(Date.now() - days * DAY));

/** A raw disk with `mib` MiB of random data, imported into the cache, last used `days` ago. @returns its image name and disk. */
async function image(mib: number, days: number): Promise<{ name: string; disk: string }> {
  const raw = path.join(tmp, `disk-${days}.raw`);
  await fs.writeFile(raw, randomBytes(mib * MiB));
  const imported = await cache().importFile(raw);
  await backdate(path.join(images, `${imported.name}.json`), days);
  return { name: imported.name, disk: imported.path };
}

/** A saved boot as saved-boots.ts leaves it: a frozen disk on `base`, a `mib` MiB state file, saved.json touched `days` ago. */
async function savedBoot(key: string, base: string, mib: number, days: number): Promise<string> {
  const dir = path.join(warm, key);
  await fs.mkdir(dir);
  const disk = path.join(dir, 'disk-0001.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, disk]);
  await fs.writeFile(path.join(dir, 'state.sav'), randomBytes(mib * MiB));
  await fs.writeFile(path.join(dir, 'saved.json'), '{}');
  await backdate(path.join(dir, 'saved.json'), days);
  return disk;
}

/** What the cache takes on disk, as `du` counts it. */
async function du(): Promise<number> {
  const r = await execa('du', ['-s', '-B1', images, warm]);
  return r.stdout.split('\n').reduce((sum, line) => sum + Number(line.split('\t')[0]), 0);
}

const cli = (...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'images', 'prune', ...args], {
    env: { XDG_CACHE_HOME: tmp, DEMOTOOL_LOG_LEVEL: 'silent' },
    reject: false,
  });

test('over the size: saved boots go first, least recently used first, then images, until the cache fits', async () => {
  const older = await image(4, 10);
  const newer = await image(4, 1);
  await savedBoot('aaaaaaaaaaaaaaaaaaaa', newer.disk, 3, 5);
  await savedBoot('bbbbbbbbbbbbbbbbbbbb', newer.disk, 3, 2);
  const total = await du();
  expect(total).toBeGreaterThan(14 * MiB);

  // One saved boot's worth too big: only the least recently used one goes.
  const first = await cache().prune({ maxSizeBytes: total - 2 * MiB });
  expect(first.savedBoots.removed.map((b) => b.key)).toEqual(['aaaaaaaaaaaaaaaaaaaa']);
  expect(first.removed).toEqual([]);
  expect(first.size).toEqual({ beforeBytes: total, afterBytes: await du(), limitBytes: total - 2 * MiB });
  expect(first.size!.afterBytes).toBeLessThanOrEqual(total - 2 * MiB);

  // Room for one image only: the other saved boot, then the older image go; the newer image stays.
  const second = await cache().prune({ maxSizeBytes: 6 * MiB });
  expect(second.savedBoots.removed.map((b) => b.key)).toEqual(['bbbbbbbbbbbbbbbbbbbb']);
  expect(second.removed).toEqual([older.name]);
  expect((await cache().list()).map((i) => i.name)).toEqual([newer.name]);
  expect(await du()).toBeLessThanOrEqual(6 * MiB);
  expect(second.size!.afterBytes).toBe(await du());
});

test('under the size nothing goes; an age and a size together: the old first, then the size', async () => {
  const old = await image(2, 40);
  const recent = await image(2, 3);
  await savedBoot('cccccccccccccccccccc', recent.disk, 2, 35);
  await savedBoot('dddddddddddddddddddd', recent.disk, 2, 1);
  const none = await cache().prune({ maxSizeBytes: 1024 * MiB });
  expect([none.removed, none.savedBoots.removed]).toEqual([[], []]);
  expect(none.size?.afterBytes).toBe(none.size?.beforeBytes);

  const both = await cache().prune({ unusedForMs: 30 * DAY, maxSizeBytes: 3 * MiB });
  expect(both.savedBoots.removed.map((b) => b.key)).toEqual(['cccccccccccccccccccc', 'dddddddddddddddddddd']);
  expect(both.removed).toEqual([old.name]);
  expect((await cache().list()).map((i) => i.name)).toEqual([recent.name]);
});

test('what a VM stands on stays over the size and is named; the CLI says how far over it still is', async () => {
  const used = await image(3, 20);
  const frozen = await savedBoot('eeeeeeeeeeeeeeeeeeee', used.disk, 3, 9);
  // A VM restored from the saved boot: its overlay stands on the frozen disk, which stands on the image.
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', frozen, path.join(run, 'vm-overlay.qcow2')]);

  const r = await cli('--max-size', '1M');
  expect(r.exitCode, r.stderr).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines).toContain('kept saved boot eeeeeeeeeeeeeeeeeeee: in use');
  expect(lines).toContain(`kept ${used.name}: in use`);
  expect(lines).toContainEqual(expect.stringMatching(/^cache: \d+\.\d MiB, limit 1\.0 MiB$/));
  expect(lines).toContainEqual(expect.stringMatching(/^still \d+\.\d MiB over the limit: what is left is in use/));
  expect((await listSavedBoots(warm)).map((b) => b.key)).toEqual(['eeeeeeeeeeeeeeeeeeee']);
  expect((await cache().list()).map((i) => i.name)).toEqual([used.name]);

  // The VM is gone: both go, and the CLI names them.
  await fs.rm(path.join(run, 'vm-overlay.qcow2'));
  const again = (await cli('--max-size', '1M')).stdout.split('\n');
  expect(again[0]).toMatch(/^removed saved boot eeeeeeeeeeeeeeeeeeee \(3\.\d MiB, last used \d{4}-\d\d-\d\d\)$/);
  expect(again).toContain(`removed ${used.name}`);
  expect(again.at(-1)).toMatch(/^cache: 0\.\d MiB \(was \d+\.\d MiB\), limit 1\.0 MiB$/);
});

test('bad sizes and a prune without an age or a size are refused before anything is removed', async () => {
  const kept = await image(1, 400);
  for (const args of [['--max-size', '8X'], ['--max-size', '-1G'], [], ['--unused-for', '30d', '--max-size', 'lots']]) {
    const r = await cli(...args);
    expect(r.exitCode, args.join(' ')).toBe(1);
    expect(r.stderr).toMatch(/^demotool: (Invalid size "[^"]*"|images prune needs --unused-for, --max-size or both)\n {2}→ /);
  }
  await expect(cache().prune({})).rejects.toMatchObject({ code: 'EUSAGE', message: expect.stringContaining('an age, a size or both') });
  await expect(cache().prune({ maxSizeBytes: -1 })).rejects.toMatchObject({ code: 'EUSAGE', message: expect.stringContaining('maxSizeBytes -1') });
  await expect(cache().prune({ unusedForMs: Number.NaN })).rejects.toMatchObject({ code: 'EUSAGE' });
  expect((await cache().list()).map((i) => i.name)).toEqual([kept.name]);
});

test('kernel unpacks not used for the age go; a used one is touched at its use and stays; unpacks in progress stay', async () => {
  const kernels = path.join(images, 'kernels');
  for (const dir of ['linux-image-6.1.0-1-amd64-aaaaaaaa', 'linux-image-6.1.0-2-amd64-all', 'linux-image-6.1.0-3-amd64-bbbbbbbb.tmp']) {
    await fs.mkdir(path.join(kernels, dir, 'boot'), { recursive: true });
    await fs.writeFile(path.join(kernels, dir, 'boot', 'vmlinuz-6.1.0-1-amd64'), 'kernel');
    await backdate(path.join(kernels, dir), 60);
  }
  // A build finds the full unpack (libguestfs's): that use is its last use.
  const ctx = { name: 'x', dir: images, out: { qcow2: '', kernel: '', initrd: '' }, log: quiet, progress() {} };
  const found = await guestKernel(ctx, 'everything', { bootDir: path.join(tmp, 'no-boot') });
  expect(found).toMatchObject({ source: 'cache', kernel: path.join(kernels, 'linux-image-6.1.0-2-amd64-all', 'boot', 'vmlinuz-6.1.0-1-amd64') });
  const r = await cli('--unused-for', '30d');
  expect(r.stdout.split('\n')).toEqual(['removed kernel unpack linux-image-6.1.0-1-amd64-aaaaaaaa']);
  expect((await fs.readdir(kernels)).sort()).toEqual(['linux-image-6.1.0-2-amd64-all', 'linux-image-6.1.0-3-amd64-bbbbbbbb.tmp']);
});

test("an exhibit's VM, shut off, keeps its image: its overlay stays in demotool/exhibit and stands on it", async () => {
  const artwork = await image(2, 400);
  const exhibit = path.join(tmp, 'demotool', 'exhibit');
  await fs.mkdir(exhibit);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', artwork.disk, path.join(exhibit, 'demo-artwork-k3x9q2.qcow2')]);
  const r = await cli('--unused-for', '30d', '--max-size', '1M');
  expect(r.stdout.split('\n')).toContain(`kept ${artwork.name}: in use`);
  await expect(fs.stat(artwork.disk)).resolves.toBeTruthy();
  await expect(new ImageCache({ dir: images }).remove(artwork.name)).rejects.toMatchObject({ code: 'EIMAGEINUSE' });
});
