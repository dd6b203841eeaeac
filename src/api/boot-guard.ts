/**
 * What removes a VM that is still booting when the process ends. On a signal: its domain and its
 * files, then the same again once the boot has stopped, since a define or restore already under
 * way when the signal came can make the domain after that first removal. On an end without async
 * cleanups (an uncaught exception, process.exit()): the same, synchronously.
 */
import { onCleanup, onExitSync } from '../process-exit.js';
import type { Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { runDir } from './state-directories.js';
import { removeRunFiles, removeRunFilesSync } from './run-files.js';

/**
 * How long a signal's cleanup waits for the boot to stop. The boot stops after the virsh call
 * it is in (it checks for the signal after each step that makes or starts the domain).
 */
const BOOT_STOP_WAIT_MS = 20_000;

export interface BootGuard {
  /** The boot to wait for: it removes what it made when the signal stops it. */
  watch(boot: Promise<unknown>): void;
  /** The boot is over (the VM closes itself from now on, or the boot removed it). */
  release(): void;
}

/** Guards the boot of `domain`; `closeVm` removes the VM once the boot has returned one. */
export function guardBoot(domain: Domain, log: Logger, closeVm: () => Promise<void> | undefined): BootGuard {
  let boot: Promise<unknown> | undefined;
  const remove = async () => {
    await domain.remove().catch((e: Error) => log.warn('could not remove the VM', { name: domain.name, error: e.message }));
    await removeRunFiles(runDir(), domain.name);
  };
  const unregisterAsync = onCleanup(async () => {
    const closing = closeVm();
    if (closing) return closing;
    await remove();
    if (boot) await settledWithin(boot, BOOT_STOP_WAIT_MS);
    await remove();
  });
  const unregisterSync = onExitSync(() => {
    domain.removeSync();
    removeRunFilesSync(runDir(), domain.name);
  });
  return {
    watch: (p) => void (boot = p),
    release: () => {
      unregisterAsync();
      unregisterSync();
    },
  };
}

/** Waits until `p` settles, or `ms` have passed (a timer that keeps the process alive meanwhile). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
