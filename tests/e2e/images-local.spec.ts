/**
 * Local disk files as images (`file:PATH`, `demotool images import`): converted once into the
 * cache by content hash, the user's file never written, bad input refused before any VM is
 * defined. Real qemu-img and qemu-io throughout; the files are made from the built `tiny` disk.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDemo } from '../../src/index.js';
import { UsageError } from '../../src/errors.js';
import { ImageCache, ImageValidationError } from '../../src/images/index.js';
import { bootableDisk } from './support/bootable-disk.js';
import { writeToGuestDisk } from './support/guest-disk.js';
import { virshLog } from './support/virsh-log.js';

test.describe.configure({ timeout: 5 * 60_000 });

let work: string;
let dir: string;
test.beforeEach(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-local-'));
  // Never the shared cache: it is only read, for tiny's disk.
  dir = path.join(work, 'cache', 'demotool', 'images');
});
test.afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

/** A qcow2 or raw disk made from tiny's, with a pattern written into it so it is not blank. */
async function diskFrom(format: 'qcow2' | 'raw', name: string, pattern = '0x5a'): Promise<string> {
  const tiny = await new ImageCache().ensure('tiny');
  const file = path.join(work, name);
  await execa('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', format, tiny.path, file]);
  await execa('qemu-io', ['-f', format, '-c', `write -P ${pattern} 1M 64k`, file]);
  return file;
}

test('a qcow2 and a raw file are each converted once into the cache, keyed by content; a changed file is a new image', async () => {
  const cache = new ImageCache({ dir, runDirs: [path.join(work, 'run')], savedBootsDir: path.join(work, 'warm') });
  for (const format of ['qcow2', 'raw'] as const) {
    const file = await diskFrom(format, `golden.${format}`);
    const hash = await sha256(file);
    const image = await cache.ensure(`file:${file}`);
    expect(image.name).toBe(`file-${hash.slice(0, 16)}`);
    expect(image).toMatchObject({ guestAgent: false });
    expect(image.boot).toBeUndefined();
    // No serial marker: 'auto' readiness waits for a settled screen.
    expect(image.readyMarker).toBeUndefined();
    const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', image.path])).stdout) as Record<string, unknown>;
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    // Same content as the user's file.
    expect((await execa('qemu-img', ['compare', '-f', format, '-F', 'qcow2', file, image.path], { reject: false })).exitCode).toBe(0);
    const sidecar = JSON.parse(await fs.readFile(path.join(dir, `${image.name}.json`), 'utf8')) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ builder: 'file', source: { path: file, sha256: hash, format, sizeBytes: (await fs.stat(file)).size } });

    // Again, and by the printed name: the same cached disk, not converted again.
    const mtime = (await fs.stat(image.path)).mtimeMs;
    expect((await cache.ensure(`file:${file}`)).path).toBe(image.path);
    expect((await cache.ensure(image.name)).path).toBe(image.path);
    expect((await fs.stat(image.path)).mtimeMs).toBe(mtime);

    // A changed file: a new image beside the old one.
    await execa('qemu-io', ['-f', format, '-c', 'write -P 0x33 2M 4k', file]);
    const changed = await cache.ensure(`file:${file}`);
    expect(changed.name).toBe(`file-${(await sha256(file)).slice(0, 16)}`);
    expect(changed.name).not.toBe(image.name);
    expect(existsSync(image.path)).toBe(true);
  }
  const listed = await cache.list();
  expect(listed).toHaveLength(4);
  for (const i of listed) expect(i.source).toMatch(/golden\.(qcow2|raw)$/);
});

test('vmdk and vdi files are converted too; a qcow2 on a backing file is flattened, and a changed backing file is a new image', async () => {
  const cache = new ImageCache({ dir, runDirs: [path.join(work, 'run')], savedBootsDir: path.join(work, 'warm') });
  const raw = await diskFrom('raw', 'source.raw');
  for (const format of ['vmdk', 'vdi'] as const) {
    const file = path.join(work, `appliance.${format}`);
    await execa('qemu-img', ['convert', '-f', 'raw', '-O', format, raw, file]);
    const image = await cache.ensure(`file:${file}`);
    expect(JSON.parse(await fs.readFile(path.join(dir, `${image.name}.json`), 'utf8'))).toMatchObject({ source: { format } });
    expect((await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, image.path], { reject: false })).exitCode).toBe(0);
  }

  const base = await diskFrom('qcow2', 'base.qcow2');
  const child = path.join(work, 'child.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', child]);
  await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x44 3M 4k', child]);
  const flat = await cache.ensure(`file:${child}`);
  expect(JSON.parse((await execa('qemu-img', ['info', '--output=json', flat.path])).stdout)['backing-filename']).toBeUndefined();
  expect((await execa('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', child, flat.path], { reject: false })).exitCode).toBe(0);
  // The child file itself is unchanged; its backing file changes: what the guest would see changed.
  const childHash = await sha256(child);
  await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 5M 4k', base]);
  expect(await sha256(child)).toBe(childHash);
  const again = await cache.ensure(`file:${child}`);
  expect(again.name).not.toBe(flat.name);
  expect((await execa('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', child, again.path], { reject: false })).exitCode).toBe(0);
});

test("a write through the VM's overlay reaches neither the user's file nor the cached copy", async () => {
  const cache = new ImageCache({ dir, runDirs: [path.join(work, 'run')], savedBootsDir: path.join(work, 'warm') });
  const file = await diskFrom('qcow2', 'golden.qcow2');
  const before = await sha256(file);
  const image = await cache.ensure(`file:${file}`);
  const cachedBefore = await sha256(image.path);
  // The overlay a boot makes: a qcow2 standing on the cached copy.
  const overlay = path.join(work, 'run', 'vm.qcow2');
  await fs.mkdir(path.dirname(overlay));
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.path, '-F', 'qcow2', overlay]);
  await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x77 1M 64k', overlay]);
  expect((await execa('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x77 1M 64k', overlay])).stdout).not.toMatch(/mismatch|fail/i);
  expect(await sha256(file)).toBe(before);
  expect(await sha256(image.path)).toBe(cachedBefore);
  // The user's file still holds the original pattern.
  expect((await execa('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x5a 1M 64k', file])).stdout).not.toMatch(/mismatch|fail/i);
  // And the cached copy an overlay stands on can't be removed.
  await expect(cache.remove(image.name)).rejects.toMatchObject({ code: 'EIMAGEINUSE' });
});

for (const format of ['qcow2', 'raw'] as const) {
  test(`a ${format} file boots as file:PATH, and what the guest writes to its disk never reaches the file`, async ({}, info) => {
    test.setTimeout(6 * 60_000);
    const file = await bootableDisk(work, format);
    const before = await sha256(file);
    const imageCache = new ImageCache({ dir });
    let cached = '';
    await startDemo(`local-${format}`, { outputDir: info.outputPath('v'), imageCache }, (demo) =>
      demo.vm(`file:${file}`, { start: 'cold', accel: 'tcg', resources: { memoryMiB: 512 } }, async (vm) => {
        expect(vm.image.boot).toBeUndefined();
        cached = vm.image.path;
        // Readiness was a settled screen (no marker): wait for tiny's shell itself.
        await vm.waitForSerial('DEMOTOOL-READY', { timeout: 120_000 });
        await vm.waitForStableScreen({ duration: 1000 });
        await writeToGuestDisk(vm, 20_000);
      }),
    );
    expect(await sha256(file)).toBe(before);
    // The cached copy is as converted: the guest wrote to its overlay only.
    expect((await execa('qemu-img', ['compare', '-f', format, '-F', 'qcow2', file, cached], { reject: false })).exitCode).toBe(0);
  });
}

const badInputs: { what: string; make: () => Promise<string>; error: typeof UsageError | typeof ImageValidationError; message: RegExp }[] = [
  { what: 'a missing file', make: async () => path.join(work, 'nope.qcow2'), error: UsageError, message: /nope\.qcow2 does not exist/ },
  { what: 'a directory', make: async () => work, error: UsageError, message: /is not a file/ },
  {
    what: 'a text file',
    make: async () => {
      const f = path.join(work, 'notes.qcow2');
      await fs.writeFile(f, 'these are my notes, not a disk\n'.repeat(64));
      return f;
    },
    error: ImageValidationError,
    message: /not a disk image/,
  },
  {
    what: 'a text file of whole sectors',
    make: async () => {
      const f = path.join(work, 'notes.img');
      await fs.writeFile(f, 'x'.repeat(511) + '\n');
      return f;
    },
    error: ImageValidationError,
    message: /first sector is text/,
  },
  {
    what: 'an unsupported format (vpc)',
    make: async () => {
      const f = path.join(work, 'disk.vhd');
      await execa('qemu-img', ['create', '-q', '-f', 'vpc', f, '16M']);
      return f;
    },
    error: ImageValidationError,
    message: /its format is vpc/,
  },
  {
    what: 'a qcow2 whose backing file is missing',
    make: async () => {
      const base = path.join(work, 'base.qcow2');
      const f = path.join(work, 'child.qcow2');
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', f]);
      await fs.rm(base);
      return f;
    },
    error: ImageValidationError,
    message: /backing chain can't be opened/,
  },
];

for (const bad of badInputs) {
  test(`${bad.what} is refused clearly before any VM is defined`, async ({}, info) => {
    const file = await bad.make();
    const before = existsSync(file) && (await fs.stat(file)).isFile() ? await sha256(file) : undefined;
    const imageCache = new ImageCache({ dir });
    const virsh = virshLog();
    let error: unknown;
    try {
      error = await startDemo('bad-local', { outputDir: info.outputPath('v'), imageCache }, (demo) => demo.vm(`file:${file}`, async () => undefined)).catch(
        (e: unknown) => e,
      );
    } finally {
      virsh.restore();
    }
    expect(error).toBeInstanceOf(bad.error);
    expect(String((error as Error).message)).toMatch(bad.message);
    expect((error as UsageError).hint).toBeTruthy();
    expect(virsh.calls()).toEqual([]);
    // Nothing converted, and the file as it was.
    expect((await imageCache.list()).length).toBe(0);
    if (before) expect(await sha256(file)).toBe(before);
  });
}

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false, env: { ...process.env, ...env } });

test('images import prints the name to use; list shows source, size and last use; prune removes only what is unused', async () => {
  const env = { XDG_CACHE_HOME: path.join(work, 'cache') };
  const file = await diskFrom('raw', 'appliance.raw');
  const imported = await cli(env, 'images', 'import', file);
  expect(imported.exitCode, imported.stderr).toBe(0);
  const name = imported.stdout.trim();
  expect(name).toBe(`file-${(await sha256(file)).slice(0, 16)}`);
  // The name boots the image (ensure by name finds it in the cache).
  const cache = new ImageCache({ dir });
  expect((await cache.ensure(name)).name).toBe(name);

  const list = await cli(env, 'images', 'list');
  expect(list.exitCode, list.stderr).toBe(0);
  const today = new Date().toISOString().slice(0, 10);
  expect(list.stdout).toMatch(
    new RegExp(`^${name}\\s+[\\d.]+ MiB\\s+${today} \\d\\d:\\d\\d\\s+-\\s+${file.replace(/[.]/g, '\\.')}\\s+${dir}/${name}_[0-9a-z-]+\\.qcow2$`, 'm'),
  );

  // An image whose sidecar names a hardware profile shows it.
  const sidecarFile = path.join(dir, `${name}.json`);
  await fs.writeFile(sidecarFile, JSON.stringify({ ...JSON.parse(await fs.readFile(sidecarFile, 'utf8')), hardware: 'legacy-windows' }));
  expect((await cli(env, 'images', 'list')).stdout).toMatch(new RegExp(`^${name}\\s+[\\d.]+ MiB\\s+${today} \\d\\d:\\d\\d\\s+legacy-windows\\s+/`, 'm'));

  const bad = await cli(env, 'images', 'prune', '--unused-for', 'a month');
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr).toMatch(/Invalid duration "a month"/);

  // Used just now: kept.
  const early = await cli(env, 'images', 'prune', '--unused-for', '1d');
  expect(early.stdout.trim()).toBe('nothing to prune');
  expect(existsSync(path.join(dir, `${name}.json`))).toBe(true);

  // Last used 40 days ago, but an overlay stands on it: kept.
  const old = new Date(Date.now() - 40 * 86_400_000);
  await fs.utimes(path.join(dir, `${name}.json`), old, old);
  expect((await cache.list())[0]!.lastUsed).toEqual(old);
  // A boot asking for it is a use.
  await cache.ensure(name);
  expect(Date.now() - (await cache.list())[0]!.lastUsed!.getTime()).toBeLessThan(60_000);
  await fs.utimes(path.join(dir, `${name}.json`), old, old);
  const disk = (await cache.list())[0]!.path;
  const overlay = path.join(work, 'cache', 'demotool', 'run', 'vm.qcow2');
  await fs.mkdir(path.dirname(overlay), { recursive: true });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', disk, '-F', 'qcow2', overlay]);
  const kept = await cli(env, 'images', 'prune', '--unused-for', '30d');
  expect(kept.stdout.trim()).toBe(`kept ${name}: in use`);
  expect(existsSync(disk)).toBe(true);

  // An image placed by hand (no sidecar) has no recorded use: listed without one, never pruned.
  const byHand = path.join(dir, 'byhand.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', byHand, '16M']);
  await fs.utimes(byHand, old, old);
  expect((await cli(env, 'images', 'list')).stdout).toMatch(/^byhand\s+[\d.]+ MiB\s+-\s+-\s+placed by hand\s+\//m);

  // Without the overlay: removed, all its files.
  await fs.rm(overlay);
  const pruned = await cli(env, 'images', 'prune', '--unused-for', '30d');
  expect(pruned.stdout.trim()).toBe(`removed ${name}`);
  expect((await fs.readdir(dir)).filter((f) => f.startsWith(name))).toEqual([]);
  expect(existsSync(byHand)).toBe(true);
  expect(existsSync(file)).toBe(true);
});
