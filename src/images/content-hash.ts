/**
 * The sha256 of a user's disk file, remembered. Hashing a golden image of many GiB takes tens
 * of seconds, and every VM that boots `file:PATH` asks for it (its image name is made from it).
 * The hash is kept in the image cache, `hashes/KEY.json` (KEY from the file's path), with the
 * file's identity: device, inode, size, and modification and change times in nanoseconds. Any
 * write to the file moves its change time, which nobody can set back, so a file that changed
 * is always hashed again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

interface Remembered {
  file: string;
  identity: string;
  sha256: string;
}

/** sha256 of the file's content, streamed (disk images are large). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { flags: 'r' })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class ContentHashes {
  /** @param dir where the hashes are remembered (created when the first one is). */
  constructor(readonly dir: string) {}

  /** The hashes an image cache remembers: `hashes/` in its dir. */
  static of(cacheDir: string): ContentHashes {
    return new ContentHashes(path.join(cacheDir, 'hashes'));
  }

  /** Forgets the hashes not asked for in `unusedForMs` (files no image is made from any more). */
  async forgetUnused(options: { unusedForMs: number; now: number }): Promise<void> {
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      const st = await fs.stat(path.join(this.dir, name)).catch(() => undefined);
      if (st && options.now - st.mtimeMs >= options.unusedForMs) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  /** The file's sha256: remembered while the file is unchanged, else read and remembered. */
  async of(file: string): Promise<string> {
    const abs = path.resolve(file);
    const memo = path.join(this.dir, `${createHash('sha256').update(abs).digest('hex').slice(0, 24)}.json`);
    const identity = await identityOf(abs);
    const known = await readMemo(memo);
    if (known?.file === abs && known.identity === identity) {
      // Its last use, for `images prune`.
      const now = new Date();
      await fs.utimes(memo, now, now).catch(() => undefined);
      return known.sha256;
    }
    const sha256 = await sha256File(abs);
    // Changed while it was read: not remembered (the next call reads it again).
    if ((await identityOf(abs)) === identity) await writeMemo(memo, { file: abs, identity, sha256 });
    return sha256;
  }
}

async function identityOf(file: string): Promise<string> {
  const st = await fs.stat(file, { bigint: true });
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
}

async function readMemo(memo: string): Promise<Remembered | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(memo, 'utf8')) as Partial<Remembered>;
    return typeof parsed.file === 'string' && typeof parsed.identity === 'string' && /^[0-9a-f]{64}$/.test(parsed.sha256 ?? '')
      ? (parsed as Remembered)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a temp file renamed); a cache that can't be written just forgets. */
async function writeMemo(memo: string, value: Remembered): Promise<void> {
  const tmp = `${memo}.tmp-${process.pid}`;
  try {
    await fs.mkdir(path.dirname(memo), { recursive: true });
    await fs.writeFile(tmp, JSON.stringify(value));
    await fs.rename(tmp, memo);
  } catch {
    await fs.rm(tmp, { force: true });
  }
}
