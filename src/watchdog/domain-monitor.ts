import type { Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import type { Trigger } from './triggers.js';

/** States libvirt passes through on its own while saving or starting: not faults. */
const TRANSIENT_PAUSE = /snapshot|saving|starting up|migrat|post-copy|restor/;

/**
 * Maps libvirt's `domstate --reason` to a trigger, or undefined when the domain is fine.
 * pvpanic makes a kernel panic show as "crashed (panicked)" (or paused/shut off with that reason).
 */
export function triggerForState(state: string, reason: string): Trigger | undefined {
  const detail = reason ? `${state} (${reason})` : state;
  if (/panic/.test(reason)) return { reason: 'guest-panic', detail, automatic: true };
  switch (state) {
    case 'running':
    case 'in shutdown':
      return undefined;
    case 'paused':
    case 'pmsuspended':
      return TRANSIENT_PAUSE.test(reason) ? undefined : { reason: 'domain-paused', detail, automatic: true };
    case 'crashed':
      return { reason: 'domain-crashed', detail, automatic: true };
    case 'shut off':
      return reason === 'crashed' ? { reason: 'domain-crashed', detail, automatic: true } : { reason: 'domain-shutoff', detail, automatic: true };
    default:
      return undefined;
  }
}

/**
 * QEMU stops the guest before libvirt learns why: a kernel panic reads "paused (unknown)" for a
 * moment before it reads "paused (panicked)", and on a loaded host that moment outlasted a 2 s
 * poll. Such a pause counts only once it has lasted this long.
 */
const UNEXPLAINED_PAUSE_MS = 5_000;

const isUnexplainedPause = (state: string, reason: string): boolean => state === 'paused' && (reason === 'unknown' || reason === '');

/** Polls the domain state with a bounded virsh call, one at a time. */
export class DomainMonitor {
  private inFlight = false;
  /** When the current unexplained pause was first seen (`now()` ms). */
  private unexplainedSince?: number;
  /** The last state seen, for status(). */
  last: { state: string; reason: string } = { state: 'unknown', reason: '' };

  constructor(
    private readonly domain: Domain,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One poll. Undefined when a poll is already running, the call failed, or all is well. */
  async poll(): Promise<Trigger | undefined> {
    if (this.inFlight) return undefined;
    this.inFlight = true;
    try {
      this.last = await this.domain.stateWithReason(this.timeoutMs);
      const { state, reason } = this.last;
      if (!isUnexplainedPause(state, reason)) this.unexplainedSince = undefined;
      else if (this.now() - (this.unexplainedSince ??= this.now()) < UNEXPLAINED_PAUSE_MS) return undefined;
      return triggerForState(state, reason);
    } catch (e) {
      this.log.debug('domain state poll failed', { error: (e as Error).message });
      return undefined;
    } finally {
      this.inFlight = false;
    }
  }
}
