import { now as monotonic, type Clock } from '../timeouts.js';

/**
 * waiting: monitoring started (or a revert finished) and no beat came yet; the timer runs.
 * healthy: the last beat is younger than the timeout.
 * timed-out: no beat for longer than the timeout.
 * paused: not judged (a snapshot is being saved).
 */
export type HeartbeatState = 'waiting' | 'healthy' | 'timed-out' | 'paused';

/** What the watchdog knows about the guest's heartbeats. Pure: the caller supplies time. */
export class Heartbeat {
  /** Monotonic time of the last beat, or undefined before the first since the last reset. */
  private lastBeat?: number;
  /** Wall-clock time of the last beat ever, for the status API (survives resets). */
  private lastBeatWall?: number;
  /** The timer's origin: start of monitoring, end of a revert plus its grace, or the last beat. */
  private since: number;
  private pausedBy = new Set<string>();
  private beats = 0;

  constructor(
    readonly timeoutMs: number,
    private readonly clock: Clock = monotonic,
  ) {
    this.since = clock();
  }

  beat(): void {
    const now = this.clock();
    this.lastBeat = now;
    this.lastBeatWall = Date.now();
    // A beat ends any grace period: the guest has shown it is alive, so the timeout runs from here.
    this.since = now;
    this.beats++;
  }

  /** After a revert: forget the old beat and give the guest `graceMs` extra before judging. */
  restart(graceMs = 0): void {
    this.lastBeat = undefined;
    this.since = this.clock() + graceMs;
  }

  /** Stop judging while `reason` lasts (snapshot save); the time paused is not counted. */
  pause(reason: string): void {
    this.pausedBy.add(reason);
  }

  resume(reason: string): void {
    if (!this.pausedBy.delete(reason)) return;
    if (this.pausedBy.size === 0) this.since = Math.max(this.since, this.clock());
  }

  get state(): HeartbeatState {
    if (this.pausedBy.size > 0) return 'paused';
    const now = this.clock();
    if (now - this.since > this.timeoutMs) return 'timed-out';
    return this.lastBeat === undefined ? 'waiting' : 'healthy';
  }

  /** Milliseconds until the timeout, as things stand (no further beat); undefined while paused. */
  get msUntilTimeout(): number | undefined {
    if (this.pausedBy.size > 0) return undefined;
    return Math.max(0, this.since + this.timeoutMs - this.clock());
  }

  /** Milliseconds since the last beat (or since the timer started, when none came). */
  get ageMs(): number {
    return Math.max(0, this.clock() - (this.lastBeat ?? this.since));
  }

  get count(): number {
    return this.beats;
  }

  /** Epoch seconds of the last beat ever received, or null. */
  get lastBeatEpoch(): number | null {
    return this.lastBeatWall === undefined ? null : this.lastBeatWall / 1000;
  }
}
