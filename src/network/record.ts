/**
 * Record services: the guest's request goes to the live site (or `upstream`), the answer goes
 * back to the guest and, with the request, into a WARC that an archive service can replay later.
 * Only where the operator configures it: nothing else here reaches beyond the host.
 */
import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { WARCRecord, WARCSerializer } from 'warcio';
import { NetworkError } from './errors.js';
import type { Answer, GuestRequest, Service } from './service.js';
import { headerPairs, isHopByHop } from './service.js';
import { endStream } from './request-log.js';

const UPSTREAM_TIMEOUT_MS = 60_000;

export async function recordService(warcFile: string, upstream: string | undefined, host: string): Promise<Service> {
  const gzip = /\.gz$/i.test(warcFile);
  let out: WriteStream;
  let isNew: boolean;
  try {
    const handle = await open(warcFile, 'a');
    isNew = (await handle.stat()).size === 0;
    out = handle.createWriteStream();
  } catch (e) {
    throw new NetworkError('ENETRECORD', `can't write the WARC ${warcFile}: ${(e as Error).message}`, 'record into a file in a writable directory', e);
  }
  let writeError: Error | undefined;
  out.on('error', (e) => (writeError = e));
  const append = async (record: WARCRecord) => {
    out.write(await WARCSerializer.serialize(record, { gzip }));
  };
  // Records are appended one message at a time, in the order the answers came.
  let queue: Promise<void> = isNew ? append(WARCRecord.createWARCInfo({ filename: warcFile }, { software: 'demotool', host })) : Promise.resolve();
  return {
    kind: 'record',
    async answer(request: GuestRequest): Promise<Answer> {
      if (writeError) throw new NetworkError('ENETRECORD', `can't write ${warcFile}: ${writeError.message}`);
      const target = targetOf(request.url, upstream);
      const answer = await forward(request, target);
      const [req, res] = warcRecords(request, answer);
      const written = queue.then(() => append(req)).then(() => append(res));
      queue = written.catch(() => {});
      await written;
      return { ...answer, headers: answer.headers.filter(([k]) => !isHopByHop(k)) };
    },
    async close() {
      await queue.catch(() => {});
      await endStream(out);
    },
  };
}

/**
 * Where the request goes: `upstream` + the path, or the live site over https whatever the guest
 * used (an old guest's http, or TLS it can no longer speak, becomes today's https on the host).
 */
function targetOf(url: URL, upstream: string | undefined): URL {
  if (upstream) return new URL(url.pathname.slice(1) + url.search, upstream.endsWith('/') ? upstream : `${upstream}/`);
  const live = new URL(url);
  live.protocol = 'https:';
  return live;
}

/** The request sent on as it came (its hop-by-hop headers dropped, Host set to the target's), its answer read whole. */
function forward(request: GuestRequest, target: URL): Promise<Answer & { body: Buffer }> {
  const headers = headerPairs(request.rawHeaders).filter(([k]) => !isHopByHop(k) && k.toLowerCase() !== 'host');
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target, { method: request.method, headers: [...headers.flat(), 'Host', target.host], timeout: UPSTREAM_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 502,
          statusText: res.statusMessage,
          // Node has taken the chunking off: the body is stored and sent whole, with its length.
          headers: headerPairs(res.rawHeaders).filter(([k]) => k.toLowerCase() !== 'transfer-encoding'),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} within ${UPSTREAM_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/** The request and response records, under the URL the guest asked for (not the upstream's). */
function warcRecords(request: GuestRequest, answer: Answer & { body: Buffer }): [WARCRecord, WARCRecord] {
  const url = request.url.href;
  const date = new Date().toISOString();
  const response = WARCRecord.create(
    {
      url,
      date,
      type: 'response',
      keepHeadersCase: true,
      statusline: `HTTP/1.1 ${answer.status} ${answer.statusText ?? ''}`.trim(),
      httpHeaders: answer.headers,
    },
    [answer.body],
  );
  const path = request.url.pathname + request.url.search;
  const req = WARCRecord.create(
    {
      url,
      date,
      type: 'request',
      keepHeadersCase: true,
      statusline: `${request.method} ${path} HTTP/1.1`,
      httpHeaders: headerPairs(request.rawHeaders),
      warcHeaders: { 'WARC-Concurrent-To': response.warcHeader('WARC-Record-ID') ?? '' },
    },
    [request.body],
  );
  return [req, response];
}
