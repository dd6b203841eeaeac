/** Shared by the tests/unit/network-*.spec.ts files: start services in a scratch dir, talk to their unix sockets. */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import dnsPacket from 'dns-packet';
import { WARCRecord, WARCSerializer } from 'warcio';
import { scratchDir } from '../support/scratch-dir.js';
import { LocalCa, NetworkServices, parseServiceMap, type NetworkServicesOptions, type RequestLogEntry } from '../../src/network/index.js';

export const GATEWAY = '10.0.2.2';

export function scratch(prefix = 'net'): string {
  return scratchDir(prefix);
}

let sharedCa: Promise<LocalCa> | undefined;
/** One CA per test worker, in a scratch dir (never the user's). */
export function testCa(): Promise<LocalCa> {
  sharedCa ??= LocalCa.load(path.join(scratch('net-ca'), 'ca'));
  return sharedCa;
}

export async function startServices(map: unknown): Promise<{ services: NetworkServices; dir: string; log: string }> {
  const dir = scratch();
  const log = path.join(dir, 'requests.jsonl');
  const options: NetworkServicesOptions = { services: parseServiceMap(map), socketDir: dir, address: GATEWAY, requestLog: log, ca: await testCa() };
  const services = await NetworkServices.start(options);
  return { services, dir, log };
}

export async function readLog(file: string): Promise<RequestLogEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RequestLogEntry);
}

/** Raw bytes to the DNS socket, as socat writes a datagram; everything the server sends back before it closes. */
export function dnsExchange(socket: string, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = net.connect(socket, () => c.write(message));
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
  });
}

/** dns-packet decodes the answer code, but its types leave it out. */
export type DnsAnswer = dnsPacket.DecodedPacket & { rcode: string };

export async function dnsQuery(socket: string, name: string, type: 'A' | 'AAAA' | 'MX' = 'A'): Promise<DnsAnswer> {
  const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
  return dnsPacket.decode(await dnsExchange(socket, query)) as DnsAnswer;
}

export interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

/** One request through a unix socket, Host set to `host`; `ca` makes it HTTPS (SNI = host). */
export function request(
  socket: string,
  host: string,
  urlPath: string,
  options: { method?: string; body?: string; ca?: string; headers?: Record<string, string> } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const common = { socketPath: socket, path: urlPath, method: options.method ?? 'GET', headers: { Host: host, ...options.headers }, agent: false as const };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() });
      });
    };
    const req = options.ca ? https.request({ ...common, servername: host, ca: options.ca }, onResponse) : http.request(common, onResponse);
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Capture {
  url: string;
  status?: number;
  statusText?: string;
  headers?: [string, string][];
  body?: string | Buffer;
  method?: string;
  date?: string;
  /** Write the request record after the response, tied to it only by being next to it (no WARC-Concurrent-To). */
  requestAfter?: boolean;
  /** A revisit record pointing to an earlier capture by its URL and date, or only by its payload (as sha256 digest). */
  revisitOf?: { url: string; date: string } | { payload: string | Buffer };
}

/** A WARC written with warcio: a request and a response (or revisit) record per capture. */
export async function writeWarc(file: string, captures: Capture[], gzip = file.endsWith('.gz')): Promise<void> {
  const parts: Uint8Array[] = [];
  for (const c of captures) {
    const date = c.date ?? '2004-05-06T07:08:09Z';
    const statusline = `HTTP/1.1 ${c.status ?? 200} ${c.statusText ?? 'OK'}`;
    const record = c.revisitOf
      ? WARCRecord.create(
          {
            url: c.url,
            date,
            type: 'revisit',
            statusline,
            httpHeaders: c.headers ?? [],
            ...('url' in c.revisitOf ? { refersToUrl: c.revisitOf.url, refersToDate: c.revisitOf.date } : {}),
            keepHeadersCase: true,
            warcHeaders: {
              'WARC-Profile': 'http://netpreserve.org/warc/1.1/revisit/identical-payload-digest',
              ...('payload' in c.revisitOf ? { 'WARC-Payload-Digest': `sha256:${createHash('sha256').update(c.revisitOf.payload).digest('hex')}` } : {}),
            },
          },
          [],
        )
      : WARCRecord.create({ url: c.url, date, type: 'response', statusline, httpHeaders: c.headers ?? [], keepHeadersCase: true }, [Buffer.from(c.body ?? '')]);
    const path = new URL(c.url).pathname + new URL(c.url).search;
    const req = WARCRecord.create(
      {
        url: c.url,
        date,
        type: 'request',
        statusline: `${c.method ?? 'GET'} ${path} HTTP/1.1`,
        httpHeaders: [['Host', new URL(c.url).host]],
        warcHeaders: c.requestAfter ? {} : { 'WARC-Concurrent-To': record.warcHeader('WARC-Record-ID')! },
      },
      [],
    );
    const pair = [await WARCSerializer.serialize(req, { gzip }), await WARCSerializer.serialize(record, { gzip })];
    parts.push(...(c.requestAfter ? pair.reverse() : pair));
  }
  await writeFile(file, Buffer.concat(parts));
}

/** A zip (deflated entries) as a WACZ holds its WARCs; small enough to write here rather than add a zip writer. */
export async function writeZip(file: string, entries: Record<string, Buffer>): Promise<void> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const packed = zlib.deflateRawSync(data);
    const fileName = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, packed);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(file, Buffer.concat([...locals, dir, end]));
}
