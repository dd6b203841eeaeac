/**
 * Archive services: replay from a WARC (.warc, .warc.gz) or a WACZ made with Webrecorder's
 * tools. Status, headers and body are served as archived; a revisit record is answered from the
 * response it refers to; redirects are served as they are.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { AsyncIterReader, WARCParser, type WARCRecord } from 'warcio';
import { NetworkError } from './errors.js';
import type { Answer, GuestRequest, Service } from './service.js';
import { isHopByHop } from './service.js';
import { waczSources } from './wacz.js';
import { WarcIndex, type IndexedRecord, type WarcSource } from './warc-index.js';

export async function archiveService(file: string): Promise<Service> {
  const index = new WarcIndex();
  try {
    const sources = /\.wacz$/i.test(file) ? await waczSources(file) : [await fileSource(file)];
    for (const source of sources) await index.add(source);
  } catch (e) {
    if (e instanceof NetworkError) throw e;
    throw new NetworkError(
      'ENETARCHIVE',
      `the archive ${file} can't be read: ${(e as Error).message}`,
      'check that it is a WARC or WACZ file (try `npx warcio index` on it)',
      e,
    );
  }
  if (index.size === 0)
    throw new NetworkError(
      'ENETARCHIVE',
      `the archive ${file} holds no WARC response records`,
      'is it a WARC or WACZ capture of the site? (`npx warcio index` lists its records)',
    );
  return {
    kind: 'archive',
    answer: (request) => replay(index, request),
    close: async () => {},
  };
}

async function replay(index: WarcIndex, request: GuestRequest): Promise<Answer | undefined> {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const other = new URL(request.url);
  other.protocol = request.url.protocol === 'https:' ? 'http:' : 'https:';
  const entry = index.find(method, request.url.href) ?? index.find(method, other.href);
  if (!entry) return undefined;
  if (entry.type === 'response') return answerFrom(await readRecord(entry));
  const original = index.original(entry);
  if (!original) return undefined; // a revisit of a capture this archive doesn't hold
  const revisit = await readRecord(entry);
  return answerFrom(await readRecord(original), revisit.httpHeaders ? revisit : undefined);
}

async function readRecord(entry: IndexedRecord): Promise<WARCRecord> {
  const bytes = await entry.source.read(entry.offset, entry.length);
  const record = await WARCParser.parse([bytes], { keepHeadersCase: true });
  if (!record) throw new NetworkError('ENETARCHIVE', `no WARC record at offset ${entry.offset} of ${entry.source.name}`);
  return record;
}

/** The archived answer; with a revisit, its own status and headers over the original's body. */
async function answerFrom(record: WARCRecord, revisit?: WARCRecord): Promise<Answer> {
  const head = (revisit ?? record).httpHeaders;
  if (!head) throw new NetworkError('ENETARCHIVE', `the record for ${record.warcTargetURI} has no HTTP headers`);
  const headers = [...(head.headers as unknown as Iterable<[string, string]>)];
  const get = (name: string) => headers.find(([k]) => k.toLowerCase() === name)?.[1];
  let body = await record.readFully(false);
  if (/chunked/i.test(get('transfer-encoding') ?? '')) body = await new AsyncIterReader([body], null, true).readFully();
  // Some capture tools store the body decoded but keep the header: then it must go.
  const stale = /^(x-)?gzip$/i.test(get('content-encoding') ?? '') && !(body[0] === 0x1f && body[1] === 0x8b);
  return {
    status: Number(head.statusCode) || 200,
    statusText: head.statusText || undefined,
    headers: headers.filter(([k]) => !isHopByHop(k) && k.toLowerCase() !== 'content-length' && !(stale && k.toLowerCase() === 'content-encoding')),
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  };
}

async function fileSource(file: string): Promise<WarcSource> {
  const { size } = await stat(file);
  return {
    name: file,
    size,
    stream: () => createReadStream(file),
    async read(offset, length) {
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}
