import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Deadline, defaultTimeout, sleep } from '../timeouts.js';

/** Characters of serial output kept in memory per VM (the newest ones). */
export const SERIAL_KEEP_CHARS = 4 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/** What `vm.serial` offers: the guest's serial log, read-only. Wait on it with `vm.waitForSerial`. */
export interface SerialLog {
  /** The log file libvirt writes. */
  readonly path: string;
  /** The log so far: all of it, or its newest 4 Mi characters. */
  text(): string;
  /** The last `lines` lines (default 30). */
  tail(lines?: number): string;
  /** The log's current length: pass it as `from` to `vm.waitForSerial` to wait only for output that comes after now. */
  mark(): number;
}

/**
 * The guest's serial console, as libvirt logs it to a file. The file is read by offset: each
 * call reads only what was appended since the last one, and only the newest `maxChars`
 * characters are kept in memory. Offsets (mark(), waitFor's `from`) count every character
 * since the log began, including those no longer kept.
 */
export class SerialConsole implements SerialLog {
  private readonly maxChars: number;
  private readonly decoder = new StringDecoder('utf8');
  /** Bytes of the file consumed so far. */
  private bytesRead = 0;
  /** Which file they came from: a new file at the path (deleted and created again) starts over. */
  private file?: { dev: number; ino: number };
  /** The newest characters, and how many came before them. */
  private kept = '';
  private dropped = 0;

  constructor(
    readonly path: string,
    options: { maxChars?: number } = {},
  ) {
    this.maxChars = Math.max(1, Math.floor(options.maxChars ?? SERIAL_KEEP_CHARS));
  }

  /**
   * The log so far ('' before the guest wrote anything): all of it while it is shorter than the
   * cap (4 Mi characters by default), else its newest part. Output read before the file was
   * deleted stays.
   */
  text(): string {
    this.refresh();
    return this.kept;
  }

  /** The last `lines` lines, for error messages and reports. */
  tail(lines = 30): string {
    return this.text().split('\n').slice(-lines).join('\n');
  }

  /** Current length: pass it as `from` to wait only for output that comes after now. */
  mark(): number {
    this.refresh();
    return this.dropped + this.kept.length;
  }

  /** Wait until the log (from offset `from`) matches. Returns the match. */
  async waitFor(pattern: RegExp | string, options: { timeout?: number; from?: number; signal?: AbortSignal } = {}): Promise<RegExpMatchArray> {
    const timeout = options.timeout ?? defaultTimeout('serial');
    const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    const deadline = new Deadline(timeout, `serial output matching ${re}`);
    let searched = -1;
    for (;;) {
      options.signal?.throwIfAborted();
      const end = this.mark();
      // Search again only when something new arrived.
      if (end !== searched) {
        searched = end;
        const m = this.kept.slice(Math.max(0, (options.from ?? 0) - this.dropped)).match(re);
        if (m) return m;
      }
      if (deadline.expired()) throw deadline.error(undefined, { hint: `last serial lines:\n${indent(this.tail(10))}` });
      await sleep(100, options.signal);
    }
  }

  /** Reads what was appended since the last call. */
  private refresh(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const st = fstatSync(fd);
      if (!this.file || this.file.dev !== st.dev || this.file.ino !== st.ino || st.size < this.bytesRead) {
        // Another file, or this one truncated: read it from its start, as output that follows.
        if (this.file) this.startOver();
        this.file = { dev: st.dev, ino: st.ino };
      }
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1, st.size - this.bytesRead)));
      while (this.bytesRead < st.size) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, st.size - this.bytesRead), this.bytesRead);
        if (n <= 0) break;
        this.bytesRead += n;
        this.append(this.decoder.write(buffer.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
  }

  private startOver(): void {
    this.append(this.decoder.end());
    this.bytesRead = 0;
  }

  private append(s: string): void {
    if (!s) return;
    this.kept += s;
    // Trim in steps of a quarter of the cap, so that appending stays cheap.
    if (this.kept.length > this.maxChars + Math.floor(this.maxChars / 4)) {
      const cut = this.kept.length - this.maxChars;
      this.dropped += cut;
      // A copy, so the dropped text is not kept alive by a slice of it.
      this.kept = Buffer.from(this.kept.slice(cut), 'utf16le').toString('utf16le');
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
