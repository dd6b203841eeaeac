/** What every service kind (archive, mirror, mock, record) looks like to the HTTP dispatcher. */
import type { IncomingHttpHeaders } from 'node:http';

/** A request from the guest, its body read. `url` is absolute: the scheme the guest used, the Host it asked for. */
export interface GuestRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** Header names and values as they came, in order: [name, value, name, value...]. */
  rawHeaders: string[];
  body: Buffer;
}

/** A file answered by streaming it (a mirror's video need not be read into memory). */
export interface FileBody {
  file: string;
  size: number;
}

export interface Answer {
  status: number;
  statusText?: string;
  /** In order, names as archived; a name may repeat (Set-Cookie). */
  headers: [string, string][];
  body: Buffer | FileBody;
  /** Answer no sooner than this many ms after the request came (a mock's delay). */
  delayMs?: number;
}

export interface Service {
  readonly kind: 'archive' | 'mirror' | 'mock' | 'record';
  /** The answer, or undefined when this service has nothing for the URL (logged as missing). */
  answer(request: GuestRequest): Promise<Answer | undefined>;
  close(): Promise<void>;
}

/** Headers that belong to one connection, never to an archived or forwarded message. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

/** [name, value] pairs from Node's flat rawHeaders list. */
export function headerPairs(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}
