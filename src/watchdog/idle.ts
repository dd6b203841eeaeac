import { now as monotonic, type Clock } from '../timeouts.js';

/**
 * The guest reports user activity (an idle reset); when none comes for `timeoutMs` the
 * artwork is considered stuck in an unattended state and is reverted. 0 switches it off.
 * The timer is armed by the guest's first report: a guest without an idle monitor is never
 * reverted for idleness.
 */
export class IdleTimer {
  private lastActivity: number;
  private armed = false;

  constructor(
    readonly timeoutMs: number,
    private readonly clock: Clock = monotonic,
  ) {
    this.lastActivity = clock();
  }

  /**
   * The guest saw input `idleMs` ago (0: just now). The guest's latest word counts: a guest
   * that reports a long idle time (the exhibition controller's idle monitor reports 720 s when
   * it wants a reset) moves the last activity back, and a timeout that has passed acts.
   */
  reset(idleMs = 0): void {
    this.armed = true;
    this.lastActivity = this.clock() - Math.max(0, idleMs);
  }

  /** After a revert the guest starts fresh. */
  restart(): void {
    this.lastActivity = this.clock();
  }

  get enabled(): boolean {
    return this.timeoutMs > 0;
  }

  get idleMs(): number {
    return this.clock() - this.lastActivity;
  }

  /** Has the guest reported activity at least once (it runs an idle monitor)? */
  get isArmed(): boolean {
    return this.armed;
  }

  get expired(): boolean {
    return this.enabled && this.armed && this.idleMs > this.timeoutMs;
  }
}
