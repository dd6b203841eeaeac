// A golden image of your own, booted as file:PATH: what each boot pays before the VM starts to
// name the image (its content hash), remembered against hashed every time (the reference: what
// every boot did before the hash was remembered), on a 1 GiB raw disk of random data.
import { randomBytes } from 'node:crypto';
import { open, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../src/images/index.js';
import { sha256File } from '../src/images/content-hash.js';
import { fmtMs, median, table, timeIt } from './stats.js';

const SIZE_MIB = 1024;
const RUNS = 5;

export async function benchLocalFile(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'demotool-bench-file-'));
  try {
    const disk = path.join(dir, 'golden.raw');
    const out = await open(disk, 'w');
    for (let i = 0; i < SIZE_MIB; i++) await out.write(randomBytes(2 ** 20));
    await out.close();
    const cache = new ImageCache({ dir: path.join(dir, 'cache'), runDirs: [path.join(dir, 'run')], savedBootsDir: path.join(dir, 'warm') });
    const first = await timeIt(() => cache.ensure(`file:${disk}`));
    const remembered: number[] = [];
    const hashed: number[] = [];
    // In turns, so the page cache favours neither.
    for (let i = 0; i < RUNS; i++) {
      remembered.push(await timeIt(() => cache.ensure(`file:${disk}`)));
      hashed.push(await timeIt(() => sha256File(disk)));
    }
    const [ours, before] = [median(remembered), median(hashed)];
    table(
      `file:PATH, ${SIZE_MIB} MiB raw: what a boot pays to find its image (median of ${RUNS})`,
      ['', 'time', 'ratio'],
      [
        ['first boot (hash and convert into the cache)', fmtMs(first), ''],
        ['a later boot: demotool (hash remembered, image found)', fmtMs(ours), (ours / before).toFixed(3)],
        ['a later boot before: the file hashed again (the hash alone)', fmtMs(before), '1'],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
