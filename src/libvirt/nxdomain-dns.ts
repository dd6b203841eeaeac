/**
 * The closed network's DNS when a VM has no network services: every query gets NXDOMAIN at once.
 * DHCP always names the gateway as the guest's DNS server, and passt tells the guest nothing when
 * no one listens there (no ICMP), so without an answer each lookup would wait out the resolver's
 * timeouts (40 s for glibc's defaults). Same protocol as the services' DNS socket: one raw DNS
 * message per unix connection, the answer written back, then the connection closed.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** The answer to `query`: its ID, opcode, RD and question echoed (resolvers check them), NXDOMAIN, no records. */
export function nxdomainAnswer(query: Buffer): Buffer | undefined {
  if (query.length < 12) return undefined;
  const questions = query.readUInt16BE(4);
  let end = 12;
  if (questions === 1) {
    while (end < query.length && query[end] !== 0) end += query[end]! + 1;
    end += 5; // the root label's zero, QTYPE, QCLASS
    if (end > query.length) return undefined;
  }
  const answer = Buffer.from(query.subarray(0, questions === 1 ? end : 12));
  const opcodeAndRd = query[2]! & 0x79;
  answer[2] = 0x80 | opcodeAndRd; // QR
  answer[3] = questions === 1 ? 3 : 1; // NXDOMAIN, or FORMERR for a query without exactly one question
  answer.writeUInt16BE(questions === 1 ? 1 : 0, 4);
  answer.fill(0, 6, 12);
  return answer;
}

/** Serves NXDOMAIN on the unix socket `path` (a stale file there is replaced). */
export function startNxdomainDns(path: string): Server {
  rmSync(path, { force: true });
  const server = createServer((c) => {
    c.on('error', () => c.destroy());
    c.once('data', (query) => {
      const answer = nxdomainAnswer(query);
      if (answer) c.end(answer);
      else c.destroy();
    });
  });
  server.on('error', () => undefined); // a guest without DNS answers is no reason to stop the VM
  server.listen(path);
  server.unref();
  return server;
}
