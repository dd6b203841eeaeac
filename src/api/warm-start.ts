/**
 * Warm start: a VM restored from its shape's saved boot (saved-boots.ts) instead of booted, and
 * the first cold boot of a shape saved for the next ones. What a restore changes in the guest
 * is put right here: its clock (it stood still since the save) is set from the host's.
 */
import { createOverlay, type Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { cleanupsStarted } from '../process-exit.js';
import { sleep, type Deadline, type StepTimer } from '../timeouts.js';
import { runInConsole } from './console-input.js';
import { stopIfInterrupted } from './interruption.js';
import { discard, restoreCopy, saveBoot, withSavedBootLock, type SavedBoot } from './saved-boots.js';

/** How a VM came up: booted from its image, or restored from a saved boot. */
export type StartKind = 'cold' | 'warm';

/** Saving a desktop-sized guest under load can take a minute; it is never worth failing a boot for. */
const SAVE_TIMEOUT_MS = 180_000;
/** A guest at its shell prompt answers at once; one that isn't gets no more than this. */
const CONSOLE_WAIT_MS = 2_000;
/** `date` through the agent is done in well under a second; past this, `guest-set-time` takes over. */
const AGENT_DATE_WAIT_MS = 2_000;
/** A warm guest's clock this close to the host's is left as it is. */
const CLOCK_TOLERANCE_S = 0.25;

export interface WarmCopy {
  domain: Domain;
  xml: string;
  uuid: string;
  overlay: string;
  /** Where libvirt logs the copy's serial console: it begins with the saved boot's. */
  serialLog: string;
  /** Defines the domain from `xml` (its persistent definition stays ours). */
  define: () => Promise<void>;
}

/**
 * Restores `copy` from the saved boot, or returns false (nothing left behind) so the caller
 * boots cold. A save image QEMU can't load is discarded.
 */
export async function tryWarmStart(saved: SavedBoot, copy: WarmCopy, timer: StepTimer, deadline: Deadline, log: Logger): Promise<boolean> {
  // libvirt doesn't look at the disk when defining: the two run side by side.
  const prepare = async (disk: string) => {
    await Promise.all([createOverlay(disk, copy.overlay), copy.define()]);
    stopIfInterrupted();
    timer.mark('prepare');
  };
  try {
    if (!(await restoreCopy(saved, copy.domain, { ...copy, prepare }, deadline.remaining(), log))) return false;
    // Ctrl-C while virsh restore ran: its cleanup may have come before the domain was running. The boot's failure path removes it.
    stopIfInterrupted();
    timer.mark('restore');
    return true;
  } catch (e) {
    // Ctrl-C mid-restore: the cleanup removes the VM, which fails the restore; booting cold instead would undo the cleanup.
    if (cleanupsStarted()) throw e;
    const message = (e as Error).message;
    await copy.domain.remove().catch(() => undefined);
    if (savedBootAtFault(message)) {
      log.warn('warm start failed: booting cold, and saving the boot again', { dir: saved.dir, error: message });
      await withSavedBootLock(saved, log, () => discard(saved)).catch(() => undefined);
    } else log.warn('warm start failed: booting cold', { dir: saved.dir, error: message });
    return false;
  }
}

/** QEMU could not load it, or its file is damaged: not a timeout, a lack of memory or a name taken meanwhile. */
function savedBootAtFault(message: string): boolean {
  return /ESAVEIMAGE|not a usable libvirt save image|migration|savevm|load of|unexpectedly closed|incoming/i.test(message) && !/timed out/i.test(message);
}

/** After a cold boot: save it for the next VMs of this shape, unless another process did. Fails the boot only when a signal came meanwhile. */
export async function saveForNextTime(
  saved: SavedBoot,
  vm: { domain: Domain; overlay: string; serialLog: string },
  timer: StepTimer,
  log: Logger,
): Promise<void> {
  try {
    if (await saveBoot(saved, vm, SAVE_TIMEOUT_MS, log)) {
      timer.mark('save');
      log.info('boot saved for warm starts', { dir: saved.dir });
    }
  } catch (e) {
    log.warn('could not save the boot for warm starts', { error: (e as Error).message });
  }
  // Ctrl-C during the save: the VM stays stopped (the cleanup removes it), so the boot can't go on.
  stopIfInterrupted();
}

/** How the clock reaches the guest: its agent, or a root shell on its serial console's socket. */
export type ClockRoute = { via: 'agent' } | { via: 'console'; socket: string };

/** The guest's clock stood still from the save to now: set it, through the agent or the console's root shell. */
export async function setGuestClock(domain: Domain, route: ClockRoute, log: Logger): Promise<void> {
  try {
    if (route.via === 'agent') await setClockThroughAgent(domain, log);
    else if (!(await runInConsole(route.socket, `date -s @${Math.round(Date.now() / 1000)} >/dev/null`, CONSOLE_WAIT_MS)))
      log.warn("the serial console's shell did not run the clock's command: the guest's clock may be behind", { socket: route.socket });
  } catch (e) {
    log.warn("could not set the warm-started guest's clock", { via: route.via, error: (e as Error).message });
  }
}

/**
 * Sets the clock, then reads it back through the agent: `date` runs some time after the host
 * chose the time it sets (1.05 s behind once, under load), so a clock found off by more than
 * CLOCK_TOLERANCE_S, and by more than the reading can tell, is set again, ahead by what it lagged.
 */
async function setClockThroughAgent(domain: Domain, log: Logger): Promise<void> {
  await setClockOnce(domain, 0, log);
  const { offset, uncertainty } = await clockOffset(domain);
  if (Math.abs(offset) <= Math.max(CLOCK_TOLERANCE_S, uncertainty)) return;
  log.debug('the guest clock lags what was set: setting it again, ahead by that', { offsetSec: offset });
  await setClockOnce(domain, -offset, log);
}

/** The guest's clock minus the host's, in seconds, read with guest-get-time, and half the call's time (what the reading can't tell). */
async function clockOffset(domain: Domain): Promise<{ offset: number; uncertainty: number }> {
  const asked = Date.now();
  const guestNs = await domain.agent<number>('guest-get-time', undefined, 10);
  const answered = Date.now();
  return { offset: guestNs / 1e9 - (asked + answered) / 2000, uncertainty: (answered - asked) / 2000 };
}

/**
 * `date -s` run by the agent, else the agent's own `guest-set-time`, to the host's time plus
 * `aheadSec`. The latter also writes the hardware clock (`hwclock -w` waits for the RTC's next
 * second: 0.3–0.8 s here); a restored guest's RTC already follows the host's clock, so only the
 * system time is owed. An agent that refuses guest-exec, or a guest without GNU date, gets
 * `guest-set-time`.
 */
async function setClockOnce(domain: Domain, aheadSec: number, log: Logger): Promise<void> {
  try {
    const at = Date.now() / 1000 + aheadSec;
    const { pid } = await domain.agent<{ pid: number }>('guest-exec', { path: 'date', arg: ['-u', '-s', `@${at.toFixed(3)}`] }, 10);
    for (const until = Date.now() + AGENT_DATE_WAIT_MS; Date.now() < until;) {
      const status = await domain.agent<{ exited: boolean; exitcode?: number }>('guest-exec-status', { pid }, 10);
      if (status.exited && status.exitcode === 0) return;
      if (status.exited) throw new Error(`date exited with ${status.exitcode}`);
      await sleep(20);
    }
    throw new Error('date did not finish');
  } catch (e) {
    log.debug('the agent could not run date: setting the clock with guest-set-time', { error: (e as Error).message });
  }
  await domain.agent('guest-set-time', { time: Math.round((Date.now() + aheadSec * 1000) * 1_000_000) }, 10);
}
