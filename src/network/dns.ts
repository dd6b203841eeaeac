/**
 * The guest's resolver. Each connection to the unix socket carries one raw DNS query (socat's
 * `UDP-RECVFROM:53,fork UNIX-CONNECT:…` writes the datagram as is, with no length prefix and no
 * end of stream) and gets one raw answer, then the connection closes. Configured names resolve
 * to the guest's gateway; every other name is NXDOMAIN. Nothing is ever forwarded to a real resolver.
 */
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { RequestLog } from './request-log.js';
import { serviceKeyFor, serviceKind, type ServiceMap } from './service-map.js';

const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3 } as const;
type Rcode = keyof typeof RCODE;
const TTL = 60;
/** A query that stops arriving half-way is answered FORMERR after this long. */
const PARTIAL_QUERY_MS = 500;

export function dnsServer(services: ServiceMap, address: string, log: RequestLog): net.Server {
  return net.createServer((socket) => {
    let received = Buffer.alloc(0);
    let done = false;
    const started = Date.now();
    const finish = (answer: () => Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const message = answer();
      if (message) socket.end(message);
      else socket.end();
    };
    const timer = setTimeout(() => finish(() => malformed(received, log, started)), PARTIAL_QUERY_MS);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const query = tryDecode(received);
      if (query) finish(() => answer(query, services, address, log, started));
    });
    socket.on('end', () => finish(() => malformed(received, log, started)));
    socket.on('error', () => finish(() => undefined));
    socket.on('close', () => clearTimeout(timer));
  });
}

function tryDecode(message: Buffer): dnsPacket.DecodedPacket | undefined {
  try {
    return dnsPacket.decode(message);
  } catch {
    return undefined;
  }
}

function answer(query: dnsPacket.DecodedPacket, services: ServiceMap, address: string, log: RequestLog, started: number): Buffer {
  const question = query.questions?.[0];
  if (query.type !== 'query' || !question) return reply(query, 'FORMERR', [], log, started, { host: '', detail: 'no question' });
  const host = question.name.toLowerCase().replace(/\.$/, '');
  const key = serviceKeyFor(services, host);
  if (key === undefined) return reply(query, 'NXDOMAIN', [], log, started, { host, method: question.type, outcome: 'refused' });
  // Only IPv4 answers: the guest's usermode network reaches the host through its IPv4 gateway.
  const answers: dnsPacket.Answer[] = question.type === 'A' ? [{ type: 'A', name: question.name, ttl: TTL, data: address }] : [];
  return reply(query, 'NOERROR', answers, log, started, { host, method: question.type, service: serviceKind(services[key]!) });
}

function reply(
  query: dnsPacket.DecodedPacket,
  rcode: Rcode,
  answers: dnsPacket.Answer[],
  log: RequestLog,
  started: number,
  entry: { host: string; method?: string; service?: string; outcome?: 'refused'; detail?: string },
): Buffer {
  const outcome = entry.outcome ?? (rcode === 'FORMERR' ? 'error' : 'served');
  log.write({ kind: 'dns', ...entry, outcome, status: rcode, ms: Date.now() - started });
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | RCODE[rcode];
  return dnsPacket.encode({ type: 'response', id: query.id, flags, questions: query.questions ?? [], answers });
}

/** A message that is not a DNS query: FORMERR with its id when it has one, else nothing. */
function malformed(received: Buffer, log: RequestLog, started: number): Buffer | undefined {
  if (received.length === 0) return undefined;
  log.write({ kind: 'dns', host: '', outcome: 'error', status: 'FORMERR', ms: Date.now() - started, detail: `malformed query of ${received.length} bytes` });
  if (received.length < 2) return undefined;
  return dnsPacket.encode({ type: 'response', id: received.readUInt16BE(0), flags: RCODE.FORMERR, questions: [], answers: [] });
}
