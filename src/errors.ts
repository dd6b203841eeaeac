/**
 * The root of every error demotool throws. `code` is stable and machine-readable;
 * `hint` tells the user how to fix the problem.
 */
export class DemotoolError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}\n  → ${options.hint}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A wait ran out of time. `details` carries what was last seen (screenshot path, log tail...). */
export class TimeoutError extends DemotoolError {
  constructor(what: string, timeoutMs: number, options: { hint?: string; cause?: unknown } = {}) {
    super('ETIMEOUT', `${what} did not happen within ${Math.round(timeoutMs)} ms`, options);
  }
}

/** Bad input from the caller: wrong option, unknown key name, bad region... */
export class UsageError extends DemotoolError {
  constructor(message: string, hint?: string) {
    super('EUSAGE', message, { hint });
  }
}

/**
 * A batch tool (ffmpeg, ffprobe, qemu-img...) ran longer than its timeout and was killed.
 * `command` names the tool and what it was doing.
 */
export class CommandTimeoutError extends TimeoutError {
  readonly command: string;
  readonly timeoutMs: number;
  constructor(command: string, timeoutMs: number, options: { hint?: string; cause?: unknown } = {}) {
    const hint = options.hint ?? 'the machine may be overloaded or the file system hung; on a slow machine raise DEMOTOOL_TIMEOUT_SCALE';
    super(command, timeoutMs, { ...options, hint });
    const message = `${command} did not finish within ${Math.round(timeoutMs)} ms and was killed`;
    this.message = `${message}\n  → ${hint}`;
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

/** The last non-empty lines of a tool's output, to quote in an error message. */
export function lastLines(text: string, lines = 25): string {
  return text.split('\n').filter(Boolean).slice(-lines).join('\n');
}
