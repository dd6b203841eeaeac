import { test, expect } from '@playwright/test';
import dnsPacket from 'dns-packet';
import net from 'node:net';
import { dnsExchange, dnsQuery, GATEWAY, readLog, startServices, type DnsAnswer } from './network-helpers.js';

const MAP = { 'old-artwork.example': { mock: [{ path: '/' }] }, '*.cdn.example': { mock: [{ path: '/' }] } };

test('configured names and wildcards resolve to the gateway, AAAA is empty, others are NXDOMAIN and logged refused', async () => {
  const { services, log } = await startServices(MAP);
  try {
    const a = await dnsQuery(services.dnsSocket, 'old-artwork.example');
    expect(a.id).toBe(4242);
    expect(a.rcode).toBe('NOERROR');
    expect(a.flag_qr).toBe(true);
    expect(a.answers).toEqual([expect.objectContaining({ type: 'A', name: 'old-artwork.example', data: GATEWAY })]);

    const upper = await dnsQuery(services.dnsSocket, 'Old-Artwork.Example.');
    expect(upper.answers?.[0]).toMatchObject({ type: 'A', data: GATEWAY });

    const wild = await dnsQuery(services.dnsSocket, 'img.static.cdn.example');
    expect(wild.rcode).toBe('NOERROR');
    expect(wild.answers?.[0]).toMatchObject({ type: 'A', data: GATEWAY });
    // The wildcard stands for subdomains, not the bare name.
    expect((await dnsQuery(services.dnsSocket, 'cdn.example')).rcode).toBe('NXDOMAIN');

    const aaaa = await dnsQuery(services.dnsSocket, 'old-artwork.example', 'AAAA');
    expect(aaaa.rcode).toBe('NOERROR');
    expect(aaaa.answers).toEqual([]);

    const other = await dnsQuery(services.dnsSocket, 'www.google.com');
    expect(other.rcode).toBe('NXDOMAIN');
    expect(other.answers).toEqual([]);
  } finally {
    await services.close();
  }
  const entries = await readLog(log);
  expect(entries.find((e) => e.host === 'www.google.com')).toMatchObject({ kind: 'dns', outcome: 'refused', status: 'NXDOMAIN', method: 'A' });
  expect(entries.find((e) => e.host === 'img.static.cdn.example')).toMatchObject({ kind: 'dns', outcome: 'served', service: 'mock', status: 'NOERROR' });
  expect(entries.filter((e) => e.kind === 'dns')).toHaveLength(6);
});

test('a malformed query gets FORMERR (or nothing) and is logged as an error; a query in two pieces is answered', async () => {
  const { services, log } = await startServices(MAP);
  try {
    const garbage = await dnsExchange(services.dnsSocket, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    const formerr = dnsPacket.decode(garbage) as DnsAnswer;
    expect(formerr.rcode).toBe('FORMERR');
    expect(formerr.id).toBe(Buffer.from('GE').readUInt16BE(0));
    expect(await dnsExchange(services.dnsSocket, Buffer.from([1]))).toHaveLength(0);

    // socat writes a datagram in one piece, but a stream may split it: the answer waits for the rest.
    const query = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'old-artwork.example' }] });
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = net.connect(services.dnsSocket, () => {
        c.write(query.subarray(0, 10));
        setTimeout(() => c.write(query.subarray(10)), 100);
      });
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
    });
    expect(dnsPacket.decode(answer).answers?.[0]).toMatchObject({ data: GATEWAY });
  } finally {
    await services.close();
  }
  const errors = (await readLog(log)).filter((e) => e.outcome === 'error');
  expect(errors).toHaveLength(2);
  expect(errors[0]).toMatchObject({ kind: 'dns', status: 'FORMERR' });
});
