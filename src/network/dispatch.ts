/**
 * The guest's HTTP and HTTPS requests: the Host header picks the service, the service answers,
 * and every request becomes one line of the request log (served, missing, refused or error).
 */
import { createReadStream } from 'node:fs';
import { validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { RequestLog, RequestLogEntry } from './request-log.js';
import type { Answer, GuestRequest, Service } from './service.js';
import { serviceKeyFor, type ServiceMap } from './service-map.js';

/** A guest's request body larger than this is refused (413): these are page requests and form posts. */
const MAX_BODY = 64 * 1024 * 1024;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function requestHandler(scheme: 'http' | 'https', map: ServiceMap, services: Map<string, Service>, log: RequestLog, logger: Logger): RequestHandler {
  return (req, res) => {
    const started = Date.now();
    const host = hostOf(req, map);
    const entry: Omit<RequestLogEntry, 'time' | 'outcome'> = { kind: scheme, host, method: req.method, url: `${scheme}://${host}${pathOf(req.url)}` };
    const done = (outcome: RequestLogEntry['outcome'], status: number, bytes: number, detail?: string) =>
      log.write({ ...entry, outcome, status, bytes, ms: Date.now() - started, detail });
    const key = host ? serviceKeyFor(map, host) : undefined;
    if (key === undefined) {
      sendText(res, 421, `demotool: ${host || 'a request without a Host header'} is not one of this guest's services\n`);
      done('refused', 421, 0);
      return;
    }
    const service = services.get(key)!;
    entry.service = service.kind;
    serve(`${scheme}://${host}`, req, res, service, started)
      .then(({ outcome, status, bytes }) => done(outcome, status, bytes))
      .catch((e: Error) => {
        logger.warn('network request failed', { url: entry.url, error: e });
        if (!res.headersSent) sendText(res, 502, `demotool: ${service.kind} service failed: ${e.message}\n`);
        else res.destroy();
        done('error', 502, 0, e.message);
      });
  };
}

async function serve(origin: string, req: IncomingMessage, res: ServerResponse, service: Service, started: number) {
  const body = await readBody(req);
  if (body === undefined) {
    sendText(res, 413, 'demotool: request body too large\n');
    return { outcome: 'refused' as const, status: 413, bytes: 0 };
  }
  const request: GuestRequest = {
    method: req.method ?? 'GET',
    url: new URL(pathOf(req.url), origin),
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body,
  };
  const answer = await service.answer(request);
  if (!answer) {
    sendText(res, 404, `demotool: ${request.url.href} is not in this ${service.kind}\n`);
    return { outcome: 'missing' as const, status: 404, bytes: 0 };
  }
  if (answer.delayMs) await sleep(Math.max(0, started + answer.delayMs - Date.now()));
  const bytes = await send(res, answer);
  return { outcome: 'served' as const, status: answer.status, bytes };
}

/**
 * The name the guest asked for: its Host header; without one (an HTTP/1.0 client), the name it
 * gave in the TLS handshake, or the map's only name when it has just one.
 */
function hostOf(req: IncomingMessage, map: ServiceMap): string {
  const header = req.headers.host?.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (header) return header;
  const sni = (req.socket as { servername?: string | false }).servername;
  if (sni) return sni.toLowerCase();
  const names = Object.keys(map);
  return names.length === 1 && !names[0]!.startsWith('*.') ? names[0]! : '';
}

/** The request target as a path: an absolute-form target (a guest set up to use us as a proxy) keeps only its path. */
function pathOf(target: string | undefined): string {
  if (!target) return '/';
  if (/^https?:\/\//i.test(target)) {
    const url = new URL(target);
    return url.pathname + url.search;
  }
  return target.startsWith('/') ? target : `/${target}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function send(res: ServerResponse, answer: Answer): Promise<number> {
  const size = Buffer.isBuffer(answer.body) ? answer.body.length : answer.body.size;
  const headers = answer.headers.filter(([name, value]) => name.toLowerCase() !== 'content-length' && sendable(name, value)).flat();
  const statusText = answer.statusText && /^[\t\x20-\x7e\x80-\xff]*$/.test(answer.statusText) ? answer.statusText : undefined;
  res.writeHead(answer.status, statusText, [...headers, 'Content-Length', String(size)]);
  if (res.req.method === 'HEAD') {
    res.end();
    return 0;
  }
  if (Buffer.isBuffer(answer.body)) {
    res.end(answer.body);
    return size;
  }
  // 'close', not 'finish': a client that hangs up as the last bytes leave gets no 'finish', and its request is logged all the same.
  await new Promise<void>((resolve, reject) => {
    createReadStream((answer.body as { file: string }).file)
      .on('error', reject)
      .pipe(res)
      .on('close', resolve)
      .on('error', reject);
  });
  return size;
}

/** One odd archived header (a raw newline, a character HTTP can't carry) is left out rather than failing the page. */
function sendable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
