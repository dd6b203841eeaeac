/** The request log: one JSON line per guest request or DNS query, for `demotool network report`. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

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
  private readonly stream: WriteStream;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: 'a' });
    this.stream.on('error', () => {}); // a full disk must not take the services down; close() reports it
  }

  write(entry: Omit<RequestLogEntry, 'time'>): void {
    if (this.stream.writableEnded) return;
    this.stream.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  }

  async close(): Promise<void> {
    if (this.stream.writableEnded) return;
    this.stream.end();
    await once(this.stream, 'close');
  }
}
