import { DemotoolError } from '../errors.js';

/** A guest network service could not start or serve (unreadable archive, busy socket, bad module, CA files). */
export class NetworkError extends DemotoolError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { hint, cause });
  }
}
