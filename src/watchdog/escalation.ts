import { now as monotonic, type Clock } from '../timeouts.js';

export interface EscalationPolicy {
  /** This many reverts inside `windowMs` make the next recovery a full restart. */
  maxReverts: number;
  windowMs: number;
  /** After this many full restarts in a row that did not bring a healthy guest, give up: state `failed`. */
  maxRestarts: number;
}

export type RecoveryStep = 'revert' | 'restart' | 'give-up';

/**
 * Tells temporary glitches from persistent failures. A revert that is followed by a healthy
 * guest counts as a success and clears the restart streak; the window forgets old reverts.
 */
export class Escalation {
  private reverts: number[] = [];
  private restartsInARow = 0;

  constructor(
    readonly policy: EscalationPolicy,
    private readonly clock: Clock = monotonic,
  ) {}

  /** What the next recovery should be. */
  next(): RecoveryStep {
    this.forgetOld();
    if (this.restartsInARow >= this.policy.maxRestarts) return 'give-up';
    // A restart that brought no healthy guest back is followed by another restart, not by
    // reverts (weaker than a restart), so the streak can reach maxRestarts and end.
    if (this.restartsInARow > 0 || this.reverts.length >= this.policy.maxReverts) return 'restart';
    return 'revert';
  }

  recorded(step: 'revert' | 'restart'): void {
    if (step === 'revert') this.reverts.push(this.clock());
    else {
      this.restartsInARow++;
      this.reverts = [];
    }
  }

  /** The guest came back healthy after the last recovery. */
  recovered(): void {
    this.restartsInARow = 0;
  }

  /** Start over (an operator re-enabled recovery after `failed`). */
  clear(): void {
    this.reverts = [];
    this.restartsInARow = 0;
  }

  get recentReverts(): number {
    this.forgetOld();
    return this.reverts.length;
  }

  private forgetOld(): void {
    const horizon = this.clock() - this.policy.windowMs;
    this.reverts = this.reverts.filter((t) => t >= horizon);
  }
}
