import { DemotoolError } from '../errors.js';
import type { RevertMethod } from './triggers.js';

/** A watchdog operation could not be done (unknown snapshot, closed watchdog, failed listener). */
export class WatchdogError extends DemotoolError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { hint, cause });
  }
}

/** A recovery failed; `method` is the one it was carrying out (for the revert history, where the coordinator keeps it). */
export class RevertFailure extends WatchdogError {
  constructor(
    readonly method: RevertMethod,
    cause: Error,
  ) {
    super('EREVERT', cause.message, undefined, cause);
  }
}
