import { readFileSync } from 'node:fs';
import { TimeoutError } from '../errors.js';
import { defaultTimeout, sleep } from '../timeouts.js';

/** The guest's serial console, as libvirt logs it to a file. */
export class SerialConsole {
  constructor(readonly path: string) {}

  /** The whole log so far ('' before the guest wrote anything). */
  text(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last `lines` lines, for error messages and reports. */
  tail(lines = 30): string {
    return this.text().split('\n').slice(-lines).join('\n');
  }

  /** Current length: pass it as `from` to wait only for output that comes after now. */
  mark(): number {
    return this.text().length;
  }

  /** Wait until the log (from offset `from`) matches. Returns the match. */
  async waitFor(pattern: RegExp | string, options: { timeout?: number; from?: number } = {}): Promise<RegExpMatchArray> {
    const timeout = options.timeout ?? defaultTimeout('serial');
    const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    const deadline = Date.now() + timeout;
    for (;;) {
      const m = this.text().slice(options.from ?? 0).match(re);
      if (m) return m;
      if (Date.now() > deadline)
        throw new TimeoutError(`serial output matching ${re}`, timeout, {
          hint: `last serial lines (${this.path}):\n${indent(this.tail(10))}`,
        });
      await sleep(100);
    }
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function indent(s: string): string {
  return s.split('\n').map((l) => `    ${l}`).join('\n');
}
