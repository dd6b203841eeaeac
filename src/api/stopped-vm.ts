import { dirname } from 'node:path';
import { TimeoutError } from '../errors.js';
import { VmError, isDomainGone, type Domain } from '../libvirt/index.js';

/** The VM a wait waits on, as far as its state goes. */
export interface WaitedVm {
  name: string;
  domain: Domain;
  overlay: string;
}

/** How often a running wait looks at the domain's state by default (a wait done sooner never asks). */
const LOOK_EVERY_MS = 2_000;

/**
 * A wait that timed out may have waited on a VM that stopped: QEMU pauses a guest whose disk
 * write failed (a full disk), and nothing on screen or serial moves after that. Rethrows
 * `error` as a VmError that says so (EVMPAUSEDIO, EVMNOTRUNNING), or unchanged otherwise.
 */
export async function explainTimeout(error: unknown, vm: WaitedVm): Promise<never> {
  // Every timeout has the code ETIMEOUT (screen matches have their own class, with the best match).
  if (!(error instanceof TimeoutError) && (error as { code?: string })?.code !== 'ETIMEOUT') throw error;
  const found = await vm.domain.stateWithReason(3_000).catch(() => ({ state: 'unknown', reason: '' }));
  const waited = (error as Error).message.split('\n')[0]!;
  throw stoppedError(vm, found, { wait: waited, timedOut: true, cause: error }) ?? error;
}

/**
 * Runs `wait`, and fails it as soon as the VM is found stopped for good: paused by QEMU after a
 * disk I/O error or a panic, crashed, shut off, or removed. Nothing a wait waits for can show then, so it fails
 * now rather than at its timeout. While `lookedAfter()` is true (a watchdog reverts such faults,
 * or a revert restarts QEMU), the state is not looked at. The state is looked at every `lookEveryMs`.
 */
export async function failWhenStopped<T>(
  vm: WaitedVm,
  title: string,
  lookedAfter: () => boolean,
  wait: (signal: AbortSignal) => Promise<T>,
  lookEveryMs = LOOK_EVERY_MS,
): Promise<T> {
  const done = new AbortController();
  const waiting = wait(done.signal);
  try {
    return await Promise.race([waiting, untilStopped(vm, { wait: title, lookedAfter, lookEveryMs }, done.signal)]);
  } finally {
    // Ends the looks, and a wait cut short (its timers and polls): nothing of it outlives the call.
    done.abort(new Error(`${title}: cut short`));
    waiting.catch(() => undefined);
  }
}

/** Rejects with the VmError once the VM is found stopped; never settles otherwise. */
function untilStopped(
  vm: WaitedVm,
  { wait, lookedAfter, lookEveryMs }: { wait: string; lookedAfter: () => boolean; lookEveryMs: number },
  signal: AbortSignal,
): Promise<never> {
  return new Promise((_, reject) => {
    const look = async () => {
      // A domain that no longer exists (removed meanwhile) is a VM that stopped for good; libvirt out of reach is not.
      const found = lookedAfter() ? undefined : await vm.domain.stateWithReason(LOOK_EVERY_MS).catch((e) => (isDomainGone(e) ? GONE : undefined));
      if (signal.aborted) return;
      const error = found && !lookedAfter() && stoppedForGood(found) && stoppedError(vm, found, { wait, timedOut: false });
      if (error) return reject(error);
      timer = setTimeout(() => void look(), lookEveryMs);
    };
    let timer = setTimeout(() => void look(), lookEveryMs);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}

/** What a look finds when the domain is no longer there. */
const GONE = { state: 'gone', reason: 'its domain was removed' };

/** States no wait can come back from: a pause for another reason (a snapshot, `virsh suspend`) may end. */
function stoppedForGood({ state, reason }: { state: string; reason: string }): boolean {
  return state === 'gone' || state === 'shut off' || state === 'crashed' || (state === 'paused' && (isIoError(reason) || /panic/.test(reason)));
}

const isIoError = (reason: string) => /ioerror|i\/o error/i.test(reason);

/** The VmError for a wait on a VM in `found`'s state, or undefined when it is running. */
function stoppedError(
  vm: WaitedVm,
  found: { state: string; reason: string },
  about: { wait: string; timedOut: boolean; cause?: unknown },
): VmError | undefined {
  const { state, reason } = found;
  const theWait = about.timedOut ? `the wait that timed out: ${about.wait}` : `the wait it cut short: ${about.wait}`;
  if (state === 'paused' && isIoError(reason))
    return new VmError('EVMPAUSEDIO', `VM ${vm.name} is paused: QEMU stopped it after a disk I/O error (is the disk full?)`, {
      cause: about.cause,
      hint: `free space where the overlay lives (${dirname(vm.overlay)}); ${theWait}`,
    });
  if (state === 'gone' || state === 'shut off' || state === 'crashed' || state === 'paused')
    return new VmError('EVMNOTRUNNING', `VM ${vm.name} is ${state}${reason ? ` (${reason})` : ''}, so the wait could not succeed`, {
      cause: about.cause,
      hint: about.timedOut ? about.wait : theWait,
    });
  return undefined;
}
