/**
 * A user's disk file is hashed once while it is unchanged (its hash names the image made from
 * it): real files, the remembered hash read back, and every kind of change hashed again.
 */
import { test, expect } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContentHashes } from '../../src/images/content-hash.js';

let tmp: string;
test.beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-hashes-'));
});
test.afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const FAKE = 'f'.repeat(64);

/** Puts FAKE in place of the remembered hash: a call that returns it did not read the file. */
async function forge(hashes: ContentHashes): Promise<void> {
  const [memo] = await fs.readdir(hashes.dir);
  const file = path.join(hashes.dir, memo!);
  await fs.writeFile(file, JSON.stringify({ ...JSON.parse(await fs.readFile(file, 'utf8')), sha256: FAKE }));
}

test('an unchanged file is not read again; a write, a new mtime or a new file at the path are', async () => {
  const disk = path.join(tmp, 'golden.raw');
  const data = randomBytes(4 * 2 ** 20);
  await fs.writeFile(disk, data);
  const hashes = ContentHashes.of(path.join(tmp, 'cache'));
  expect(await hashes.of(disk)).toBe(sha(data));
  expect(await fs.readdir(hashes.dir)).toHaveLength(1);

  await forge(hashes);
  expect(await hashes.of(disk)).toBe(FAKE);

  // Same size, same mtime put back: the change time still moved.
  const st = await fs.stat(disk);
  const changed = Buffer.from(data);
  changed[1000] = changed[1000]! ^ 0xff;
  await fs.writeFile(disk, changed);
  await fs.utimes(disk, st.atime, st.mtime);
  expect(await hashes.of(disk)).toBe(sha(changed));

  await forge(hashes);
  await fs.utimes(disk, new Date(), new Date(Date.now() + 1000));
  expect(await hashes.of(disk)).toBe(sha(changed));

  // Another file renamed over the path: another inode.
  await forge(hashes);
  await fs.writeFile(`${disk}.new`, data);
  await fs.rename(`${disk}.new`, disk);
  expect(await hashes.of(disk)).toBe(sha(data));
});

test('a damaged record is hashed again and rewritten; a missing file is an error, not a hash', async () => {
  const disk = path.join(tmp, 'a.qcow2');
  await fs.writeFile(disk, 'content');
  const hashes = ContentHashes.of(path.join(tmp, 'cache'));
  await hashes.of(disk);
  const [memo] = await fs.readdir(hashes.dir);
  await fs.writeFile(path.join(hashes.dir, memo!), '{"file": "');
  expect(await hashes.of(disk)).toBe(sha(Buffer.from('content')));
  expect(JSON.parse(await fs.readFile(path.join(hashes.dir, memo!), 'utf8'))).toMatchObject({ file: disk, sha256: sha(Buffer.from('content')) });
  await expect(hashes.of(path.join(tmp, 'missing.raw'))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('two paths with the same content are remembered apart; unused records are forgotten', async () => {
  const a = path.join(tmp, 'a.raw');
  const b = path.join(tmp, 'b.raw');
  await fs.writeFile(a, 'same');
  await fs.writeFile(b, 'same');
  const hashes = ContentHashes.of(path.join(tmp, 'cache'));
  expect(await hashes.of(a)).toBe(await hashes.of(b));
  expect(await fs.readdir(hashes.dir)).toHaveLength(2);
  const old = new Date(Date.now() - 40 * 86_400_000);
  const [first] = await fs.readdir(hashes.dir);
  await fs.utimes(path.join(hashes.dir, first!), old, old);
  await hashes.forgetUnused({ unusedForMs: 30 * 86_400_000, now: Date.now() });
  expect(await fs.readdir(hashes.dir)).toHaveLength(1);
});
