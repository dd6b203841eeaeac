/** The request log: one JSON line per guest request or DNS query, for `demotool network report`. */
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import { NetworkError } from './errors.js';

export type RequestOutcome = 'served' | 'missing' | 'refused' | 'error';

export interface RequestLogEntry {
  time: string;
  kind: 'dns' | 'http' | 'https';
  host: string;
  /** The HTTP method, or the DNS query type (A, AAAA...). */
  method?: string;
  url?: string;
  /** archive, mirror, mock or record: the service that answered. */
  service?: string;
  outcome: RequestOutcome;
  /** The HTTP status, or the DNS answer code (NOERROR, NXDOMAIN, FORMERR). */
  status?: number | string;
  bytes?: number;
  ms?: number;
  detail?: string;
}

export class RequestLog {
  private constructor(private readonly stream: WriteStream) {
    this.stream.on('error', () => {}); // a full disk must not take the guest's services down
  }

  /** Opened (appending) before any service starts, so a log that can't be written stops the start. */
  static async open(file: string): Promise<RequestLog> {
    try {
      return new RequestLog((await open(file, 'a')).createWriteStream());
    } catch (e) {
      throw new NetworkError('ENETLOG', `can't write the request log ${file}: ${(e as Error).message}`, 'give a path in a writable directory', e);
    }
  }

  write(entry: Omit<RequestLogEntry, 'time'>): void {
    if (!this.stream.writable) return;
    this.stream.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  }

  async close(): Promise<void> {
    await endStream(this.stream);
  }
}

/** Ends `stream` and waits until its file is closed; at once when it already is (or failed). */
export async function endStream(stream: WriteStream): Promise<void> {
  if (stream.closed || stream.destroyed) return;
  const closed = once(stream, 'close').catch(() => {});
  stream.end();
  await closed;
}
