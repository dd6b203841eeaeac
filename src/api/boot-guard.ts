/**
 * What removes a VM that is still booting when the process ends. On a signal: its domain and its
 * files, then the same again once the virsh calls running at that moment have ended, since a
 * define or restore already under way can make the domain after the first removal (the boot
 * starts no new one: interruption.ts). On an end without async cleanups (an uncaught exception,
 * process.exit()): the same, synchronously.
 */
import { onCleanup, onExitSync } from '../process-exit.js';
import { virshCallsSettled, type Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { runDir } from './state-directories.js';
import { removeRunFiles, removeRunFilesSync } from './run-files.js';

/** How long a signal's cleanup waits for the virsh calls under way (a restore takes seconds under load). */
const VIRSH_CALLS_WAIT_MS = 20_000;

/**
 * Guards the boot of `domain` from now on; `closeVm` closes the VM once the boot has returned one.
 * Returns the function that ends the guard (the boot failed and removed the VM, or the VM closed).
 */
export function guardBoot(domain: Domain, log: Logger, closeVm: () => Promise<void> | undefined): () => void {
  const remove = async () => {
    await domain.remove().catch((e: Error) => log.warn('could not remove the VM', { name: domain.name, error: e.message }));
    await removeRunFiles(runDir(), domain.name);
  };
  const unregisterAsync = onCleanup(async () => {
    const closing = closeVm();
    if (closing) return closing;
    await removeTwice(remove);
  });
  const unregisterSync = onExitSync(() => {
    domain.removeSync();
    removeRunFilesSync(runDir(), domain.name);
  });
  return () => {
    unregisterAsync();
    unregisterSync();
  };
}

/**
 * A signal's removal of a VM still booting: `remove` now, then again once the virsh calls running
 * now have ended (at most VIRSH_CALLS_WAIT_MS), as a define or restore under way may make the domain after the first.
 */
export async function removeTwice(remove: () => Promise<void>): Promise<void> {
  await remove();
  await settledWithin(virshCallsSettled(), VIRSH_CALLS_WAIT_MS);
  await remove();
}

/** Waits until `p` settles, or `ms` have passed (a timer that keeps the process alive meanwhile). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
