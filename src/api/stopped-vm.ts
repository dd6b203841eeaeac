import { dirname } from 'node:path';
import { TimeoutError } from '../errors.js';
import { VmError, type Domain } from '../libvirt/index.js';

/**
 * A wait that timed out may have waited on a VM that stopped: QEMU pauses a guest whose disk
 * write failed (a full disk), and nothing on screen or serial moves after that. Rethrows
 * `error` as a VmError that says so (EVMPAUSEDIO, EVMNOTRUNNING), or unchanged otherwise.
 */
export async function explainTimeout(error: unknown, vm: { name: string; domain: Domain; overlay: string }): Promise<never> {
  // Every timeout has the code ETIMEOUT (screen matches have their own class, with the best match).
  if (!(error instanceof TimeoutError) && (error as { code?: string })?.code !== 'ETIMEOUT') throw error;
  const { state, reason } = await vm.domain.stateWithReason(3_000).catch(() => ({ state: 'unknown', reason: '' }));
  const waited = (error as Error).message.split('\n')[0];
  if (state === 'paused' && /ioerror|i\/o error/i.test(reason))
    throw new VmError('EVMPAUSEDIO', `VM ${vm.name} is paused: QEMU stopped it after a disk I/O error (is the disk full?)`, {
      cause: error,
      hint: `free space where the overlay lives (${dirname(vm.overlay)}); the wait that timed out: ${waited}`,
    });
  if (state === 'shut off' || state === 'crashed' || state === 'paused')
    throw new VmError('EVMNOTRUNNING', `VM ${vm.name} is ${state}${reason ? ` (${reason})` : ''}, so the wait could not succeed`, {
      cause: error,
      hint: waited,
    });
  throw error;
}
