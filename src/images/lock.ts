import lockfile from 'proper-lockfile';
import type { Logger } from '../log.js';
import { now, sleep } from '../timeouts.js';
import { ImageBuildError } from './errors.js';

// A build holds the lock for minutes: refresh its mtime every 15 s and only call it stale
// after 2 min without refresh (a crashed builder), so a busy 2-core machine never loses it.
const STALE_MS = 120_000;
const UPDATE_MS = 15_000;
const POLL_MS = 1_000;
const LOG_EVERY_MS = 30_000;
/** Longest wait for another process's build (virt-builder with a full desktop can take long). */
const MAX_WAIT_MS = 3 * 60 * 60_000;

export type Release = () => Promise<void>;

/**
 * Take the per-image build lock (`{name}.lock` in the cache dir), waiting while another
 * process or worker holds it.
 */
export async function acquireBuildLock(dir: string, lockPath: string, image: string, log: Logger): Promise<Release> {
  const start = now();
  let lastLog = 0;
  for (;;) {
    try {
      return await lockfile.lock(dir, {
        lockfilePath: lockPath,
        realpath: false,
        stale: STALE_MS,
        update: UPDATE_MS,
        onCompromised: (err) => log.warn('image lock compromised', { image, lock: lockPath, error: err.message }),
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    }
    const waited = now() - start;
    if (waited > MAX_WAIT_MS) {
      throw new ImageBuildError({
        image,
        step: 'lock',
        reason: `another process has been building it for over ${Math.round(waited / 60_000)} min`,
        hint: `if no demotool process is running, delete ${lockPath}`,
      });
    }
    if (waited - lastLog >= LOG_EVERY_MS || lastLog === 0) {
      log.info('waiting for another build of this image', { image, waitedS: Math.round(waited / 1000) });
      lastLog = waited || 1;
    }
    await sleep(POLL_MS);
  }
}
