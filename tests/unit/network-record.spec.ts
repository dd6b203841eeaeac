import { test, expect } from '@playwright/test';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { readLog, request, scratch, startServices } from './network-helpers.js';

/** Stands in for the live site: only ever on 127.0.0.1. */
async function liveSite(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} host=${req.headers.host} body=${body}`);
      if (req.url === '/page') {
        res.setHeader('Content-Type', 'text/html');
        res.setHeader('Set-Cookie', ['s=1', 't=2']);
        res.write('<html>live ');
        res.end('page</html>'); // no length: sent chunked
      } else if (req.url === '/packed') {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
        res.end(zlib.gzipSync('unpacked by the browser'));
      } else if (req.url?.startsWith('/api')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ query: req.url }));
      } else if (req.method === 'POST') {
        res.writeHead(201, { 'Content-Type': 'text/plain' });
        res.end(`got ${body}`);
      } else {
        res.writeHead(302, { Location: 'http://live.example/page' });
        res.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

test('record passes requests to the site, answers the guest, and writes a WARC that an archive service replays', async () => {
  const site = await liveSite();
  const warc = path.join(scratch(), 'live.warc.gz');
  const { services, log } = await startServices({ 'live.example': { record: warc, upstream: site.url } });
  const get = (s: { httpSocket: string }, p: string, method = 'GET', body?: string) => request(s.httpSocket, 'live.example', p, { method, body });
  let live: Record<'page' | 'packed' | 'api' | 'form' | 'moved', Awaited<ReturnType<typeof get>>>;
  try {
    live = {
      page: await get(services, '/page'),
      packed: await get(services, '/packed'),
      api: await get(services, '/api?z=1&a=2'),
      form: await get(services, '/form', 'POST', 'name=x'),
      moved: await get(services, '/moved'),
    };
  } finally {
    await services.close();
    await site.close();
  }
  expect(live.page.text).toBe('<html>live page</html>');
  expect(live.page.headers['set-cookie']).toEqual(['s=1', 't=2']);
  expect(zlib.gunzipSync(live.packed.body).toString()).toBe('unpacked by the browser');
  expect(live.form.text).toBe('got name=x');
  expect(live.moved.status).toBe(302);
  expect(site.seen[0]).toMatch(new RegExp(`^GET /page host=${site.url.slice(7)} body=$`));
  expect(site.seen).toHaveLength(5);
  expect((await readLog(log)).map((e) => [e.service, e.outcome, e.status])).toEqual([
    ['record', 'served', 200],
    ['record', 'served', 200],
    ['record', 'served', 200],
    ['record', 'served', 201],
    ['record', 'served', 302],
  ]);

  // The site is gone: the WARC alone answers now.
  const { services: replay, log: replayLog } = await startServices({ 'live.example': { archive: warc } });
  try {
    for (const [name, p, method, body] of [
      ['page', '/page'],
      ['packed', '/packed'],
      ['api', '/api?a=2&z=1'],
      ['form', '/form', 'POST', 'name=x'],
      ['moved', '/moved'],
    ] as const) {
      const again = await get(replay, p, method, body);
      expect([name, again.status, again.body.equals(live[name].body)]).toEqual([name, live[name].status, true]);
      expect(again.headers['content-type']).toBe(live[name].headers['content-type']);
    }
    expect((await get(replay, '/page')).headers['set-cookie']).toEqual(['s=1', 't=2']);
    expect((await get(replay, '/packed')).headers['content-encoding']).toBe('gzip');
    expect((await get(replay, '/moved')).headers.location).toBe('http://live.example/page');
  } finally {
    await replay.close();
  }
  expect((await readLog(replayLog)).every((e) => e.outcome === 'served')).toBe(true);
});

test('record answers 502 and logs an error when the site does not answer', async () => {
  const site = await liveSite();
  await site.close(); // nothing listens on its port now
  const warc = path.join(scratch(), 'down.warc');
  const { services, log } = await startServices({ 'live.example': { record: warc, upstream: site.url } });
  try {
    expect((await request(services.httpSocket, 'live.example', '/page')).status).toBe(502);
  } finally {
    await services.close();
  }
  expect((await readLog(log))[0]).toMatchObject({ service: 'record', outcome: 'error', status: 502, detail: expect.stringMatching(/ECONNREFUSED/) });
});
