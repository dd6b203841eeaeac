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
async function savedBoot(key: string, ageDays: number): Promise<string> {
  const dir = path.join(warm, key);
  await fs.mkdir(dir, { recursive: true });
  const disk = path.join(dir, 'disk-0001.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', path.join(tmp, 'images', 'base.qcow2'), disk]);
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
