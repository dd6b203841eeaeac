import { TimeoutError, UsageError } from './errors.js';

/**
 * Every wait in demotool has a named default here. DEMOTOOL_TIMEOUT_SCALE multiplies
 * them all, as openQA's TIMEOUT_SCALE does, for slow TCG-only machines.
 */
export const Timeouts = {
  /** Whole boot sequence: define, start, VNC, ready (DEMOTOOL_BOOT_TIMEOUT overrides, seconds). */
  boot: 120_000,
  /** VNC connect or reconnect after a QEMU restart. */
  vncConnect: 15_000,
  /** waitForScreen / clickImage / toMatchScreen. */
  screen: 10_000,
  /** waitForText (OCR is slow). */
  text: 20_000,
  /** waitForSerial. */
  serial: 30_000,
  /** waitForStableScreen / waitForScreenChange. */
  stable: 10_000,
  /** vm.exec through the guest agent. */
  exec: 30_000,
  /** ffmpeg graceful stop before it is killed. */
  recorderStop: 10_000,
  /**
   * A batch ffmpeg job (finishing a section, joining sections, a gif palette) before it is
   * killed: at least this, or 3× the video's duration when that is longer (re-encoding).
   */
  ffmpegBatch: 300_000,
  /** One ffprobe call. */
  ffprobe: 30_000,
  /** One qemu-img call (info, check, create). */
  qemuImg: 120_000,
} as const;

export type TimeoutName = keyof typeof Timeouts;

export function timeoutScale(): number {
  const raw = process.env.DEMOTOOL_TIMEOUT_SCALE;
  const scale = raw ? Number(raw) : 1;
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** The default for `name`, scaled; the boot timeout can also be set alone (DEMOTOOL_BOOT_TIMEOUT, seconds, not scaled). */
export function defaultTimeout(name: TimeoutName): number {
  if (name === 'boot') {
    const seconds = Number(process.env.DEMOTOOL_BOOT_TIMEOUT);
    if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  }
  return Timeouts[name] * timeoutScale();
}

/** Node fires a timer of 2^31 ms or more after 1 ms: anything that long means "no limit" here. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The one rule for every timeout in the API: a number of milliseconds ≥ 0, where 0 and
 * Infinity (and anything from 2^31 ms up) mean no limit, as in Playwright. `undefined` takes
 * the default. Anything else (a string, NaN, a negative number) is a UsageError.
 */
export function resolveTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
    throw new UsageError(`${name} must be a number of milliseconds ≥ 0 (0 or Infinity: no limit), not ${JSON.stringify(value) ?? String(value)}`);
  return value === 0 || value >= MAX_TIMER_MS ? Infinity : value;
}

/** setTimeout for a timeout that may be Infinity: no timer is armed then (Node would fire it at once). */
export function timer(fn: () => void, ms: number): NodeJS.Timeout | undefined {
  return ms < MAX_TIMER_MS ? setTimeout(fn, Math.max(0, ms)) : undefined;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Milliseconds on a monotonic clock: immune to wall-clock jumps (NTP, a guest setting the date). */
export function now(): number {
  return performance.now();
}

/** A source of monotonic milliseconds: `now` in production, a hand-moved clock in unit tests. */
export type Clock = () => number;

/**
 * One time budget, shared by the steps of a sequence or the rounds of a polling loop. Use it
 * instead of `Date.now() + timeout`: it runs on the monotonic clock and names what timed out.
 */
export class Deadline {
  private readonly end: number;
  constructor(
    readonly totalMs: number,
    readonly what: string,
  ) {
    this.end = now() + totalMs;
  }
  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.end - now());
  }
  expired(): boolean {
    return now() >= this.end;
  }
  /** Throws TimeoutError (naming `step`) once the budget is spent. */
  check(step?: string): void {
    if (this.expired()) throw this.error(step);
  }
  /** The TimeoutError this deadline throws, for callers that add a hint or a cause. */
  error(step?: string, options: { hint?: string; cause?: unknown } = {}): TimeoutError {
    return new TimeoutError(step ? `${this.what} (at step: ${step})` : this.what, this.totalMs, options);
  }
}

/** Milliseconds each named step took, in order. */
export class StepTimer {
  readonly steps: Record<string, number> = {};
  private last = now();
  mark(step: string): void {
    const t = now();
    this.steps[step] = Math.round(t - this.last);
    this.last = t;
  }
}
