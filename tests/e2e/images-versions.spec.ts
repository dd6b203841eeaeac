import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache, ImageInUseError, type BaseImage } from '../../src/images/index.js';
import { qcow2BackingFile } from '../../src/images/in-use.js';
import type { Logger } from '../../src/log.js';
import { cacheEntries } from './support/host.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

// Never the shared cache: other workers boot images from it meanwhile. `images` and `run`
// side by side, as in $XDG_CACHE_HOME/demotool.
let root: string;
let images: string;
let run: string;
test.beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-versions-'));
  images = path.join(root, 'images');
  run = path.join(root, 'run');
  await fs.mkdir(run, { recursive: true });
});
test.afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const sha = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

/** What a VM's boot does: a qcow2 overlay in the run directory on the image's disk. */
async function overlayOn(image: BaseImage, name: string): Promise<string> {
  const overlay = path.join(run, `${name}.qcow2`);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image.path, overlay]);
  return overlay;
}

/** The overlay's backing chain as qemu-img (and so QEMU, at a revert) opens it. */
async function backingChain(overlay: string): Promise<string[]> {
  const r = await execa('qemu-img', ['info', '-U', '--backing-chain', '--output=json', overlay]);
  return (JSON.parse(r.stdout) as { filename: string }[]).map((i) => i.filename);
}

test('a rebuild never replaces a base an overlay stands on; builds nobody uses are pruned', async () => {
  const cache = new ImageCache({ dir: images, log: quiet });
  const first = await cache.ensure('tiny');
  const overlay = await overlayOn(first, 'demo-a-ab12cd');
  const before = { disk: await sha(first.path), kernel: await sha(first.boot!.kernel), initrd: await sha(first.boot!.initrd) };

  // `demotool images build tiny --rebuild` while the VM runs.
  const second = await cache.ensure('tiny', { rebuild: true });
  expect(second.path).not.toBe(first.path);
  expect(second.boot!.kernel).not.toBe(first.boot!.kernel);
  // The first build is untouched: same path, same bytes; the overlay's chain still opens.
  expect({ disk: await sha(first.path), kernel: await sha(first.boot!.kernel), initrd: await sha(first.boot!.initrd) }).toEqual(before);
  expect(await qcow2BackingFile(overlay)).toBe(first.path);
  expect(await backingChain(overlay)).toEqual([overlay, first.path]);
  await execa('qemu-img', ['check', '-U', overlay]);
  // New VMs get the new build.
  expect(await cache.ensure('tiny')).toEqual(second);
  expect((await cache.list()).map((i) => [i.name, i.path])).toEqual([['tiny', second.path]]);

  // A recipe bump is a rebuild too: the overlay keeps the first build; the unused second goes.
  const sidecarPath = path.join(images, 'tiny.json');
  const sidecar = JSON.parse(await fs.readFile(sidecarPath, 'utf8'));
  await fs.writeFile(sidecarPath, JSON.stringify({ ...sidecar, recipe: sidecar.recipe - 1 }));
  const third = await cache.ensure('tiny');
  expect(third.path).not.toBe(second.path);
  expect(await sha(first.path)).toBe(before.disk);
  await expect(fs.access(second.path)).rejects.toThrow();

  // The VM is gone: its base is pruned at the next build.
  await fs.rm(overlay);
  const fourth = await cache.ensure('tiny', { rebuild: true });
  const names = await cacheEntries(images);
  expect(names).toEqual(['tiny.json', ...['.initrd', '.qcow2', '.vmlinuz'].map((s) => path.basename(fourth.path, '.qcow2') + s)]);
});

test('remove refuses, deleting nothing, while an overlay stands on the image', async () => {
  const cache = new ImageCache({ dir: images, log: quiet });
  const image = await cache.ensure('tiny');
  const overlay = await overlayOn(image, 'demo-b-ab12cd');
  const files = (await fs.readdir(images)).sort();
  const error = await cache.remove('tiny').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImageInUseError);
  expect((error as ImageInUseError).code).toBe('EIMAGEINUSE');
  expect((error as Error).message).toContain(image.path);
  expect((await fs.readdir(images)).sort()).toEqual(files);
  expect(await cache.validate('tiny')).toEqual({ ok: true });
  await fs.rm(overlay);
  await cache.remove('tiny');
  expect(await cacheEntries(images)).toEqual([]);
});

test('a cache from before versioned builds (tiny.qcow2, no disk in the sidecar) is used, then migrated', async () => {
  const cache = new ImageCache({ dir: images, log: quiet });
  const built = await cache.ensure('tiny');
  // Make it look like an old cache: unversioned names, a sidecar without `disk`.
  for (const [from, to] of [
    [built.path, 'tiny.qcow2'],
    [built.boot!.kernel, 'tiny.vmlinuz'],
    [built.boot!.initrd, 'tiny.initrd'],
  ] as const)
    await fs.rename(from, path.join(images, to));
  const sidecarPath = path.join(images, 'tiny.json');
  const { disk: _disk, ...old } = JSON.parse(await fs.readFile(sidecarPath, 'utf8'));
  await fs.writeFile(sidecarPath, JSON.stringify({ ...old, boot: { ...old.boot, kernel: 'tiny.vmlinuz', initrd: 'tiny.initrd' } }));

  const legacy = await cache.ensure('tiny');
  expect(legacy.path).toBe(path.join(images, 'tiny.qcow2'));
  expect(legacy.boot!.kernel).toBe(path.join(images, 'tiny.vmlinuz'));
  const overlay = await overlayOn(legacy, 'demo-c-ab12cd');
  const before = await sha(legacy.path);

  const rebuilt = await cache.ensure('tiny', { rebuild: true });
  expect(path.basename(rebuilt.path)).toMatch(/^tiny_\d{8}-\d{6}-[0-9a-f]{4}\.qcow2$/);
  expect(JSON.parse(await fs.readFile(sidecarPath, 'utf8')).disk).toBe(path.basename(rebuilt.path));
  expect(await sha(legacy.path)).toBe(before);
  expect(await backingChain(overlay)).toEqual([overlay, legacy.path]);

  await fs.rm(overlay);
  await cache.ensure('tiny', { rebuild: true });
  expect((await fs.readdir(images)).filter((f) => f.startsWith('tiny.'))).toEqual(['tiny.json']);
});

test("tiny's leftover cleanup takes only tiny's own leftovers, never another image's files", async () => {
  await fs.mkdir(images, { recursive: true });
  // Image `tiny.build-x`, placed by hand (a valid name), and real leftovers of tiny's dead builds.
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(images, 'tiny.build-x.qcow2'), '16M']);
  await fs.writeFile(path.join(images, 'tiny.qcow2.tmp-4242-abcdef'), 'half');
  await fs.mkdir(path.join(images, 'tiny.build-Ab12Cd'));
  const cache = new ImageCache({ dir: images, log: quiet });
  await cache.ensure('tiny');
  const left = await fs.readdir(images);
  expect(left).toContain('tiny.build-x.qcow2');
  expect(left).not.toContain('tiny.qcow2.tmp-4242-abcdef');
  expect(left).not.toContain('tiny.build-Ab12Cd');
  expect(await cache.validate('tiny.build-x')).toEqual({ ok: true });
  // And a rebuild of tiny prunes only tiny's builds.
  await cache.ensure('tiny', { rebuild: true });
  expect(await fs.readdir(images)).toContain('tiny.build-x.qcow2');
});

test('a base held open by a process (a running QEMU, its overlay anywhere) is kept', async () => {
  const cache = new ImageCache({ dir: images, log: quiet });
  const first = await cache.ensure('tiny');
  const handle = await fs.open(first.path, 'r');
  try {
    await cache.ensure('tiny', { rebuild: true });
    expect(await sha(first.path)).toBeTruthy();
  } finally {
    await handle.close();
  }
  await cache.ensure('tiny', { rebuild: true });
  await expect(fs.access(first.path)).rejects.toThrow();
});

test('saved boots go with the build they were made from, unless a VM stands on them; remove takes them too', async () => {
  const warm = path.join(root, 'warm');
  const cache = new ImageCache({ dir: images, log: quiet });
  const first = await cache.ensure('tiny');
  /** A saved boot as warm starts leave it: a directory with a frozen disk on the build. */
  const savedBoot = async (key: string, base: BaseImage) => {
    await fs.mkdir(path.join(warm, key), { recursive: true });
    const disk = path.join(warm, key, 'disk-0a1b2c3d.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base.path, disk]);
    await fs.writeFile(path.join(warm, key, 'state.sav'), 'LibvirtQemudSave');
    return disk;
  };
  const unused = await savedBoot('unused', first);
  const standing = await savedBoot('standing', first);
  // A warm-started VM's overlay stands on the second saved boot's disk.
  const overlay = path.join(run, 'demo-w-ab12cd.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', standing, overlay]);

  // A rebuild: the saved boot nobody stands on goes; the other one, and the build under it, stay.
  const second = await cache.ensure('tiny', { rebuild: true });
  await expect(fs.access(path.dirname(unused))).rejects.toThrow();
  expect(await backingChain(overlay)).toEqual([overlay, standing, first.path]);
  // `images remove` is refused while the VM stands on it (through the saved boot), and deletes nothing.
  await expect(cache.remove('tiny')).rejects.toBeInstanceOf(ImageInUseError);
  await fs.access(standing);
  await fs.access(first.path);

  // The VM is gone: remove takes the image and its saved boots.
  await fs.rm(overlay);
  await savedBoot('on-second', second);
  await cache.remove('tiny');
  expect(await fs.readdir(warm)).toEqual([]);
  expect((await fs.readdir(images)).filter((f) => f.startsWith('tiny'))).toEqual([]);
});
