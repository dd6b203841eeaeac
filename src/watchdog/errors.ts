import { DemotoolError } from '../errors.js';

/** A watchdog operation could not be done (unknown snapshot, closed watchdog, failed listener). */
export class WatchdogError extends DemotoolError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { hint, cause });
  }
}
