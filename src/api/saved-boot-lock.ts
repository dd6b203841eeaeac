/**
 * One process at a time per saved boot (its save file's XML is rewritten for each copy). The
 * lock's files are the image layer's (savedBootLockFiles: `images prune` reads them): a
 * proper-lockfile directory beside the saved boot, and a record naming its holder. A run
 * killed while it held the lock (SIGKILL, an OOM kill, a CI timeout) leaves both, and the next
 * run takes the lock over at once instead of waiting for it to go stale (a minute).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { SAVED_BOOT_LOCK, savedBootLockFiles } from '../images/index.js';
import { ownerState, thisProcess, type ParsedOwner } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { sleep } from '../timeouts.js';

const LOCK_WAIT_MS = 300_000;
const POLL_MS = 100;

/** Runs `body` holding the lock on `dir` (a saved boot's directory, which must exist). */
export async function withDirectoryLock<T>(dir: string, log: Logger, body: () => Promise<T>): Promise<T> {
  const { lock, holder } = savedBootLockFiles(dir);
  const started = Date.now();
  for (;;) {
    let release: (() => Promise<void>) | undefined;
    try {
      release = await lockfile.lock(dir, { lockfilePath: lock, realpath: false, stale: SAVED_BOOT_LOCK.staleMs, update: SAVED_BOOT_LOCK.updateMs });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED' || Date.now() - started > LOCK_WAIT_MS) throw e;
      if (!(await takeOverFromDeadHolder(lock, holder, log))) await sleep(POLL_MS);
      continue;
    }
    try {
      await writeFile(holder, JSON.stringify(thisProcess()));
      return await body();
    } finally {
      // The holder record goes first: a record without a lock is harmless, a lock without one waits to go stale.
      await rm(holder, { force: true });
      await release().catch(() => undefined);
    }
  }
}

/**
 * Removes the lock when its holder record names a process that is gone. The record is moved
 * aside first (a rename succeeds for one process only), and put back if it names a live one:
 * two waiters never both remove a lock, and a new holder's lock is never removed.
 */
async function takeOverFromDeadHolder(lock: string, holder: string, log: Logger): Promise<boolean> {
  const claimed = `${holder}.${randomBytes(4).toString('hex')}`;
  if (
    !(await rename(holder, claimed).then(
      () => true,
      () => false,
    ))
  )
    return false;
  const record = await readFile(claimed, 'utf8').then(
    (t) => JSON.parse(t) as ParsedOwner,
    () => undefined,
  );
  const verdict = record && ownerState(record);
  if (verdict?.state !== 'dead') {
    await rename(claimed, holder).catch(() => undefined);
    return false;
  }
  await rm(lock, { recursive: true, force: true });
  await rm(claimed, { force: true });
  log.info("took over a saved boot's lock from a run that is gone", { lock, reason: verdict.reason });
  return true;
}
