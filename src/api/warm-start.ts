/**
 * Warm start: a VM restored from its shape's saved boot (saved-boots.ts) instead of booted, and
 * the first cold boot of a shape saved for the next ones. What a restore changes in the guest
 * is put right here: its clock (it stood still since the save) is set from the host's.
 */
import { open } from 'node:fs/promises';
import { createOverlay, type Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { cleanupsStarted } from '../process-exit.js';
import { sleep, type Deadline, type StepTimer } from '../timeouts.js';
import { discard, restoreCopy, saveBoot, withSavedBootLock, type SavedBoot } from './saved-boots.js';

/** How a VM came up: booted from its image, or restored from a saved boot. */
export type StartKind = 'cold' | 'warm';

/** Saving a desktop-sized guest under load can take a minute; it is never worth failing a boot for. */
const SAVE_TIMEOUT_MS = 180_000;
const PTY_NOTICED_MS = 1_100;

export interface WarmCopy {
  domain: Domain;
  xml: string;
  uuid: string;
  overlay: string;
  /** Defines the domain from `xml` (its persistent definition stays ours). */
  define: () => Promise<void>;
}

/**
 * Restores `copy` from the saved boot, or returns false (nothing left behind) so the caller
 * boots cold. A save image QEMU can't load is discarded.
 */
export async function tryWarmStart(saved: SavedBoot, copy: WarmCopy, timer: StepTimer, deadline: Deadline, log: Logger): Promise<boolean> {
  const prepare = async (disk: string) => {
    await createOverlay(disk, copy.overlay);
    timer.mark('overlay');
    await copy.define();
    timer.mark('define');
  };
  try {
    if (!(await restoreCopy(saved, copy.domain, { ...copy, prepare }, deadline.remaining(), log))) return false;
    timer.mark('restore');
    return true;
  } catch (e) {
    // Ctrl-C mid-restore: the cleanup removes the VM, which fails the restore; booting cold instead would undo the cleanup.
    if (cleanupsStarted()) throw e;
    const message = (e as Error).message;
    await copy.domain.remove().catch(() => undefined);
    if (savedBootAtFault(message)) {
      log.warn('warm start failed: booting cold, and saving the boot again', { dir: saved.dir, error: message });
      await withSavedBootLock(saved, () => discard(saved)).catch(() => undefined);
    } else log.warn('warm start failed: booting cold', { dir: saved.dir, error: message });
    return false;
  }
}

/** QEMU could not load it, or its file is damaged: not a timeout, a lack of memory or a name taken meanwhile. */
function savedBootAtFault(message: string): boolean {
  return /ESAVEIMAGE|not a usable libvirt save image|migration|savevm|load of|unexpectedly closed|incoming/i.test(message) && !/timed out/i.test(message);
}

/** After a cold boot: save it for the next VMs of this shape, unless another process did. Never fails the boot. */
export async function saveForNextTime(saved: SavedBoot, domain: Domain, overlay: string, timer: StepTimer, log: Logger): Promise<void> {
  try {
    if (await saveBoot(saved, domain, overlay, SAVE_TIMEOUT_MS, log)) {
      timer.mark('save');
      log.info('boot saved for warm starts', { dir: saved.dir });
    }
  } catch (e) {
    log.warn('could not save the boot for warm starts', { error: (e as Error).message });
  }
}

/** The guest's clock stood still from the save to now: set it, through the agent or the console's root shell. */
export async function setGuestClock(domain: Domain, via: 'agent' | 'console', log: Logger): Promise<void> {
  try {
    if (via === 'agent') await domain.agent('guest-set-time', { time: Date.now() * 1_000_000 }, 10);
    else {
      // QEMU reads a pty only while its other end is open, and looks for that once a second.
      const pty = await open(await domain.consolePty(), 'w');
      try {
        await pty.write(`date -s @${Math.round(Date.now() / 1000) + 1} >/dev/null\r`);
        await sleep(PTY_NOTICED_MS);
      } finally {
        await pty.close();
      }
    }
  } catch (e) {
    log.warn("could not set the warm-started guest's clock", { via, error: (e as Error).message });
  }
}
