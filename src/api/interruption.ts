import { VmError } from '../libvirt/index.js';
import { cleanupsStarted } from '../process-exit.js';

/**
 * Throws once a signal's cleanups have begun. A boot calls it right before each virsh call that
 * makes or starts its domain (define, start, restore), so none starts after the signal; the
 * cleanup waits for the ones already running (boot-guard.ts). And again after each such call:
 * a boot in a process that goes on (a Playwright worker) then stops and removes what it made.
 */
export function stopIfInterrupted(): void {
  if (cleanupsStarted()) throw new VmError('EINTERRUPTED', 'the boot was interrupted (a signal ended the process)');
}
