import { DemotoolError, TimeoutError, UsageError } from '../errors.js';
import type { Point } from '../geometry.js';

/** Something went wrong talking to the guest's screen, keyboard or mouse. */
export class VncError extends DemotoolError {}

/** No VNC session could be opened (QEMU not listening, handshake refused, timeout). */
export class VncConnectError extends VncError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('EVNCCONNECT', message, options);
  }
}

/** The connection is gone and did not come back in time, or the client was closed. */
export class VncDisconnectedError extends VncError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('EVNCDISCONNECTED', message, options);
  }
}

/** A key name, key combination or character that cannot be sent: a mistake in the caller's script. */
export class KeyNameError extends UsageError {
  override readonly code: string = 'EKEYNAME';
}

/**
 * A reference image did not show on screen in time (waitForScreen, clickImage). A
 * TimeoutError, with the code ETIMEOUT every timeout has; it adds the best match seen, and
 * the paths of the screenshot and diff it wrote, so the failure can be seen.
 */
export class ScreenMatchTimeoutError extends TimeoutError {
  /** 0..1: the best similarity seen while waiting (0 when the reference never fit). */
  readonly bestSimilarity: number;
  /** The similarity the match needed. */
  readonly threshold: number;
  /** Top-left corner of that best match. */
  readonly bestAt?: Point;
  /** The screen when the wait gave up. */
  readonly actualPath?: string;
  /** Reference, screen at the best match and their pixel difference, side by side. */
  readonly diffPath?: string;

  constructor(
    /** What did not appear, e.g. "reference login (120x40)". */
    what: string,
    timeoutMs: number,
    details: { bestSimilarity: number; threshold: number; bestAt?: Point; actualPath?: string; diffPath?: string; hint?: string },
  ) {
    super(what, timeoutMs, { hint: details.hint });
    const best = details.bestAt
      ? `${details.bestSimilarity.toFixed(3)} at ${details.bestAt.x},${details.bestAt.y}`
      : 'none (the reference is larger than the screen or search region)';
    const message = `${what} did not appear on screen within ${Math.round(timeoutMs)} ms: best similarity ${best}, needed ${details.threshold}`;
    this.message = details.hint ? `${message}\n  → ${details.hint}` : message;
    this.bestSimilarity = details.bestSimilarity;
    this.threshold = details.threshold;
    this.bestAt = details.bestAt;
    this.actualPath = details.actualPath;
    this.diffPath = details.diffPath;
  }
}
