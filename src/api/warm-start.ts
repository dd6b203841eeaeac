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
/** guest-get-time calls made at most to read the guest's clock; one answered within this (seconds) is enough. */
const CLOCK_READINGS = 3;
const CLOCK_READING_GOOD_S = 0.01;

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
 * Reads the guest's offset from the host through the agent and shifts its clock by it, from the
 * guest's own reading: an absolute time chosen on the host is late by however long the agent
 * takes to run `date` (1.05 s once, under load), and setting it again, ahead by that, overshot
 * when the second run was quick. A clock still off by more than CLOCK_TOLERANCE_S, and by more
 * than the reading can tell, is shifted once more.
 */
async function setClockThroughAgent(domain: Domain, log: Logger): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const { offset, uncertainty } = await clockOffset(domain);
    if (Math.abs(offset) <= Math.max(CLOCK_TOLERANCE_S, uncertainty)) return;
    log.debug('setting the warm guest clock', { offsetSec: offset, uncertaintySec: uncertainty });
    await shiftClock(domain, -offset, log);
  }
}

/**
 * The guest's clock minus the host's, in seconds, from the quickest of a few guest-get-time
 * calls, and half that call's time (what the reading can't tell).
 */
async function clockOffset(domain: Domain): Promise<{ offset: number; uncertainty: number }> {
  let best = { offset: 0, uncertainty: Infinity };
  for (let i = 0; i < CLOCK_READINGS && best.uncertainty > CLOCK_READING_GOOD_S; i++) {
    const asked = Date.now();
    const guestNs = await domain.agent<number>('guest-get-time', undefined, 10);
    const answered = Date.now();
    const uncertainty = (answered - asked) / 2000;
    if (uncertainty < best.uncertainty) best = { offset: guestNs / 1e9 - (asked + answered) / 2000, uncertainty };
  }
  return best;
}

/**
 * Moves the guest's clock by `bySec`: a shell the agent runs reads the clock and sets it, so
 * the time the agent takes to start it doesn't count. An agent that refuses guest-exec, or a
 * guest without a POSIX shell and GNU date, gets `guest-set-time` with the host's time (it also
 * writes the hardware clock: `hwclock -w` waits for the RTC's next second, 0.3–0.8 s here).
 */
async function shiftClock(domain: Domain, bySec: number, log: Logger): Promise<void> {
  const byNs = Math.round(bySec * 1e9);
  const script = `n=$(($(date +%s%N) + (${byNs}))) && date -u -s "@$((n / 1000000000)).$(printf %09d $((n % 1000000000)))"`;
  try {
    const { pid } = await domain.agent<{ pid: number }>('guest-exec', { path: 'sh', arg: ['-c', script] }, 10);
    for (const until = Date.now() + AGENT_DATE_WAIT_MS; Date.now() < until;) {
      const status = await domain.agent<{ exited: boolean; exitcode?: number }>('guest-exec-status', { pid }, 10);
      if (status.exited && status.exitcode === 0) return;
      if (status.exited) throw new Error(`the clock's shell exited with ${status.exitcode}`);
      await sleep(20);
    }
    throw new Error("the clock's shell did not finish");
  } catch (e) {
    log.debug('the agent could not shift the clock: setting it with guest-set-time', { error: (e as Error).message });
  }
  await domain.agent('guest-set-time', { time: Date.now() * 1_000_000 }, 10);
}
