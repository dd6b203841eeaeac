/**
 * `images prune` and saved boots (warm starts): real qcow2 files made with qemu-img in a temp
 * cache; a saved boot goes when it was not restored from for the given time, unless a VM's
 * overlay stands on it or a boot holds its lock; the CLI says what it removed.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../../src/images/index.js';
import { listSavedBoots } from '../../src/images/saved-boot-files.js';

const DAY = 86_400_000;
let tmp: string;
let warm: string;
let run: string;

test.beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-prune-'));
  warm = path.join(tmp, 'warm');
  run = path.join(tmp, 'run');
  await fs.mkdir(path.join(tmp, 'images'), { recursive: true });
  await fs.mkdir(run, { recursive: true });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(tmp, 'images', 'base.qcow2'), '16M']);
});
test.afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A saved boot as saved-boots.ts leaves it: a frozen disk on the base, a state file, saved.json last touched `ageDays` ago. */
async function savedBoot(key: string, ageDays: number, base = path.join(tmp, 'images', 'base.qcow2')): Promise<string> {
  const dir = path.join(warm, key);
  await fs.mkdir(dir, { recursive: true });
  const disk = path.join(dir, 'disk-0001.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, disk]);
  await fs.writeFile(path.join(dir, 'state.sav'), Buffer.alloc(64 * 1024, 1));
  const meta = path.join(dir, 'saved.json');
  await fs.writeFile(meta, JSON.stringify({ disk: 'disk-0001.qcow2', savedAt: new Date().toISOString(), format: 3 }));
  const when = new Date(Date.now() - ageDays * DAY);
  await fs.utimes(meta, when, when);
  return disk;
}

const cache = () => new ImageCache({ dir: path.join(tmp, 'images'), runDirs: [run], savedBootsDir: warm });

test('saved boots unused for longer than asked are removed; recent ones stay', async () => {
  await savedBoot('aaaaaaaaaaaaaaaaaaaa', 40);
  await savedBoot('bbbbbbbbbbbbbbbbbbbb', 2);
  const listed = await listSavedBoots(warm);
  expect(listed.map((b) => b.key)).toEqual(['aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
  expect(listed[0]!.sizeBytes).toBeGreaterThanOrEqual(64 * 1024);

  const result = await cache().prune({ unusedForMs: 30 * DAY });
  expect(result.savedBoots.removed.map((b) => b.key)).toEqual(['aaaaaaaaaaaaaaaaaaaa']);
  expect(result.savedBoots.inUse).toEqual([]);
  expect((await listSavedBoots(warm)).map((b) => b.key)).toEqual(['bbbbbbbbbbbbbbbbbbbb']);
});

test("an old saved boot that a VM's overlay stands on, or whose lock is held, is kept", async () => {
  const frozen = await savedBoot('cccccccccccccccccccc', 40);
  await savedBoot('dddddddddddddddddddd', 40);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', frozen, path.join(run, 'vm-overlay.qcow2')]);
  await fs.mkdir(path.join(warm, 'dddddddddddddddddddd.lock'));

  const result = await cache().prune({ unusedForMs: 30 * DAY });
  expect(result.savedBoots.removed).toEqual([]);
  expect(result.savedBoots.inUse.map((b) => b.key)).toEqual(['cccccccccccccccccccc', 'dddddddddddddddddddd']);
  // The lock directory is not a saved boot of its own.
  expect((await listSavedBoots(warm)).map((b) => b.key)).toEqual(['cccccccccccccccccccc', 'dddddddddddddddddddd']);

  // The VM is gone: the next prune takes it.
  await fs.rm(path.join(run, 'vm-overlay.qcow2'));
  expect((await cache().prune({ unusedForMs: 30 * DAY })).savedBoots.removed.map((b) => b.key)).toEqual(['cccccccccccccccccccc']);
});

test('a saved boot whose base image is gone goes at any age (nothing can restore it); `images list` and `prune` say why', async () => {
  // As the CLI finds them: XDG_CACHE_HOME/demotool/{images,warm}.
  const images = path.join(tmp, 'demotool', 'images');
  await fs.mkdir(images, { recursive: true });
  warm = path.join(tmp, 'demotool', 'warm');
  const gone = path.join(images, 'gone.qcow2');
  const kept = path.join(images, 'kept.qcow2');
  for (const disk of [gone, kept]) await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  await savedBoot('hhhhhhhhhhhhhhhhhhhh', 0, gone);
  await savedBoot('iiiiiiiiiiiiiiiiiiii', 0, kept);
  await fs.rm(gone);
  expect((await listSavedBoots(warm)).map((b) => [b.key, b.baseGone])).toEqual([
    ['hhhhhhhhhhhhhhhhhhhh', true],
    ['iiiiiiiiiiiiiiiiiiii', false],
  ]);
  const cli = (...args: string[]) =>
    execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'images', ...args], { env: { XDG_CACHE_HOME: tmp, DEMOTOOL_LOG_LEVEL: 'silent' } });
  expect((await cli('list')).stdout.split('\n')).toContainEqual(expect.stringMatching(/^hhhhhhhhhhhhhhhhhhhh\s.*its image is gone \(\S+gone\.qcow2\)$/));
  expect((await cli('prune', '--unused-for', '30d')).stdout).toMatch(/^removed saved boot hhhhhhhhhhhhhhhhhhhh \(\d+(\.\d+)? MiB, its image is gone\)$/);
  expect(await fs.readdir(warm)).toEqual(['iiiiiiiiiiiiiiiiiiii']);
});

test('a lock left by a killed run does not keep an old saved boot: both go', async () => {
  await savedBoot('ffffffffffffffffffff', 40);
  const lock = path.join(warm, 'ffffffffffffffffffff.lock');
  await fs.mkdir(lock);
  await fs.writeFile(`${lock}.holder`, '{}');
  const old = new Date(Date.now() - 5 * 60_000);
  await fs.utimes(lock, old, old);
  expect((await cache().prune({ unusedForMs: 30 * DAY })).savedBoots.removed.map((b) => b.key)).toEqual(['ffffffffffffffffffff']);
  expect(await fs.readdir(warm)).toEqual([]);
});

test('`demotool images prune` names the saved boots it removed and kept', async () => {
  await savedBoot('eeeeeeeeeeeeeeeeeeee', 40);
  const cli = (args: string[]) =>
    execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'images', 'prune', ...args], {
      env: { XDG_CACHE_HOME: tmp, DEMOTOOL_LOG_LEVEL: 'silent' },
      reject: false,
    });
  // XDG_CACHE_HOME/demotool/{images,warm,run}: move the fixture under it.
  await fs.mkdir(path.join(tmp, 'demotool'));
  await fs.rename(warm, path.join(tmp, 'demotool', 'warm'));

  const kept = await cli(['--unused-for', '60d']);
  expect(kept.exitCode).toBe(0);
  expect(kept.stdout).toBe('nothing to prune');

  const pruned = await cli(['--unused-for', '30d']);
  expect(pruned.exitCode).toBe(0);
  expect(pruned.stdout).toMatch(/^removed saved boot eeeeeeeeeeeeeeeeeeee \(\d+(\.\d+)? MiB, last used \d{4}-\d\d-\d\d\)$/);
  expect(await fs.readdir(path.join(tmp, 'demotool', 'warm'))).toEqual([]);
});

test('`demotool images list` shows each saved boot with its size, last restore and the image it was made from', async () => {
  // XDG_CACHE_HOME/demotool/{images,warm}: one saved boot on an image in the cache, one on a disk that is not.
  const images = path.join(tmp, 'demotool', 'images');
  await fs.mkdir(images, { recursive: true });
  await fs.rename(path.join(tmp, 'images', 'base.qcow2'), path.join(images, 'base.qcow2'));
  warm = path.join(tmp, 'demotool', 'warm');
  await savedBoot('ffffffffffffffffffff', 3, path.join(images, 'base.qcow2'));
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(tmp, 'elsewhere.qcow2'), '16M']);
  await savedBoot('gggggggggggggggggggg', 1, path.join(tmp, 'elsewhere.qcow2'));
  const r = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'images', 'list'], {
    env: { XDG_CACHE_HOME: tmp, DEMOTOOL_LOG_LEVEL: 'silent' },
  });
  const lines = r.stdout.split('\n');
  expect(lines[0]).toBe(`images in ${images}: name, size, last use, hardware profile, source, disk`);
  expect(lines[1]).toMatch(/^base\s+\d+\.\d MiB\s+-\s+-\s+placed by hand\s+\S+base\.qcow2$/);
  expect(lines).toContain('saved boots (warm starts): key, size, last restore, image');
  const day = new Date(Date.now() - 3 * DAY).toISOString().slice(0, 10);
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ffffffffffffffffffff\\s+0\\.\\d MiB\\s+${day} \\d\\d:\\d\\d\\s+base$`)));
  expect(lines).toContainEqual(
    expect.stringMatching(/^gggggggggggggggggggg\s+0\.\d MiB\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+an older build \(\S+elsewhere\.qcow2\)$/),
  );
});
