import { DemotoolError } from '../errors.js';

/** Something went wrong talking to the guest's screen, keyboard or mouse. */
export class VncError extends DemotoolError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

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

/** A key name or character that cannot be sent. */
export class KeyNameError extends VncError {
  constructor(message: string, hint?: string) {
    super('EKEYNAME', message, { hint });
  }
}

/**
 * waitForScreen gave up. Code is ETIMEOUT like every other timeout; the artifacts show
 * what the screen looked like and where it differed from the reference.
 */
export class ScreenMatchTimeoutError extends VncError {
  readonly bestSimilarity: number;
  readonly bestAt?: { x: number; y: number };
  readonly actualPath?: string;
  readonly diffPath?: string;

  constructor(
    message: string,
    details: { bestSimilarity: number; bestAt?: { x: number; y: number }; actualPath?: string; diffPath?: string; hint?: string },
  ) {
    super('ETIMEOUT', message, { hint: details.hint });
    this.bestSimilarity = details.bestSimilarity;
    this.bestAt = details.bestAt;
    this.actualPath = details.actualPath;
    this.diffPath = details.diffPath;
  }
}
