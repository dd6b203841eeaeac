import { TimeoutError } from '../errors.js';

/** One time budget shared by the steps of a sequence (the boot timeout covers them all). */
export class Deadline {
  private readonly end: number;
  constructor(readonly totalMs: number, readonly what: string) {
    this.end = Date.now() + totalMs;
  }
  remaining(): number {
    return Math.max(0, this.end - Date.now());
  }
  expired(): boolean {
    return Date.now() >= this.end;
  }
  check(step: string): void {
    if (this.expired()) throw new TimeoutError(`${this.what} (at step: ${step})`, this.totalMs);
  }
}

/** Milliseconds each named step took, in order. */
export class StepTimer {
  readonly steps: Record<string, number> = {};
  private last = performance.now();
  mark(step: string): void {
    const now = performance.now();
    this.steps[step] = Math.round(now - this.last);
    this.last = now;
  }
}
