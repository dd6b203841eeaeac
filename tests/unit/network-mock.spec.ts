import { test, expect } from '@playwright/test';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetworkServices, parseServiceMap } from '../../src/network/index.js';
import { GATEWAY, readLog, request, scratch, startServices, testCa } from './network-helpers.js';

test('mock routes answer with their status, headers, JSON and delay; an unmatched request is missing', async () => {
  const { services, log } = await startServices({
    'api.example': {
      mock: [
        { method: 'GET', path: '/v1/status', status: 201, headers: { 'X-Era': '2003' }, body: { ok: true, items: [1, 2] } },
        { method: 'POST', path: '/v1/*', status: 202, body: 'accepted' },
        { path: '/slow', body: 'late', delayMs: 600 },
        { path: '/search?q=art', body: 'only this query' },
        { path: '/odd', headers: { 'X-Odd': 'check ✓', 'X-Fine': 'yes' }, body: 'odd' },
      ],
    },
  });
  try {
    const get = (p: string, method = 'GET') => request(services.httpSocket, 'api.example', p, { method, body: method === 'POST' ? 'x=1' : undefined });
    const status = await get('/v1/status');
    expect([status.status, status.headers['content-type'], status.headers['x-era']]).toEqual([201, 'application/json', '2003']);
    expect(JSON.parse(status.text)).toEqual({ ok: true, items: [1, 2] });
    expect((await get('/v1/status?any=query')).status).toBe(201);
    const post = await get('/v1/deep/path', 'POST');
    expect([post.status, post.text, post.headers['content-type']]).toEqual([202, 'accepted', 'text/plain; charset=utf-8']);
    expect((await get('/v1/deep/path')).status).toBe(404);

    const started = Date.now();
    const slow = await get('/slow');
    const took = Date.now() - started;
    expect(slow.text).toBe('late');
    expect(took).toBeGreaterThanOrEqual(590);
    expect(took).toBeLessThan(3000);
    const fast = Date.now();
    await get('/v1/status');
    expect(Date.now() - fast).toBeLessThan(500);

    expect((await get('/search?q=art')).text).toBe('only this query');
    expect((await get('/search?q=other')).status).toBe(404);
    // A header HTTP can't carry is left out; the rest is served.
    const odd = await get('/odd');
    expect([odd.status, odd.text, odd.headers['x-fine'], odd.headers['x-odd']]).toEqual([200, 'odd', 'yes', undefined]);
  } finally {
    await services.close();
  }
  const entries = await readLog(log);
  expect(entries.find((e) => e.url === 'http://api.example/slow')).toMatchObject({ service: 'mock', outcome: 'served', status: 200 });
  expect(entries.find((e) => e.url === 'http://api.example/slow')!.ms).toBeGreaterThanOrEqual(590);
  expect(entries.filter((e) => e.outcome === 'missing').map((e) => e.url)).toEqual(['http://api.example/v1/deep/path', 'http://api.example/search?q=other']);
});

test('a mock module answers dynamically; a module without a default export is refused at start', async () => {
  const dir = scratch();
  const module = path.join(dir, 'api.mjs');
  await writeFile(
    module,
    `export default (req) => req.path.startsWith('/echo') ? { status: 200, headers: { 'X-Method': req.method }, body: { path: req.path, body: req.body.toString() } } : undefined;\n`,
  );
  const { services, log } = await startServices({ 'api.example': { mock: module } });
  try {
    const echo = await request(services.httpSocket, 'api.example', '/echo?x=1', { method: 'PUT', body: 'hello' });
    expect(echo.headers['x-method']).toBe('PUT');
    expect(JSON.parse(echo.text)).toEqual({ path: '/echo?x=1', body: 'hello' });
    expect((await request(services.httpSocket, 'api.example', '/other')).status).toBe(404);
  } finally {
    await services.close();
  }
  expect((await readLog(log)).map((e) => e.outcome)).toEqual(['served', 'missing']);

  const bad = path.join(dir, 'bad.mjs');
  await writeFile(bad, 'export const handler = () => ({});\n');
  await expect(startServices({ 'api.example': { mock: bad } })).rejects.toThrow(/no default export function/);
});

test('a request for a host that is not configured is refused (421) and logged', async () => {
  const { services, log } = await startServices({ 'api.example': { mock: [{ path: '/' }] } });
  try {
    const other = await request(services.httpSocket, 'www.example.com', '/');
    expect(other.status).toBe(421);
  } finally {
    await services.close();
  }
  expect((await readLog(log))[0]).toMatchObject({ kind: 'http', host: 'www.example.com', outcome: 'refused', status: 421 });
  // close() took its sockets away.
  for (const socket of [services.httpSocket, services.httpsSocket, services.dnsSocket]) expect(existsSync(socket)).toBe(false);
});

test('a request log that cannot be written stops the start, leaving no socket behind', async () => {
  const dir = scratch();
  const start = NetworkServices.start({
    services: parseServiceMap({ 'api.example': { mock: [{ path: '/' }] } }),
    socketDir: dir,
    address: GATEWAY,
    requestLog: path.join(dir, 'no-such-dir', 'requests.jsonl'),
    ca: await testCa(),
  });
  await expect(start).rejects.toMatchObject({ code: 'ENETLOG', message: expect.stringContaining('no-such-dir') });
  expect(readdirSync(dir)).toEqual([]);
});

test('an HTTP/1.0 request without a Host header goes to the map’s only name, and is refused when there are several', async () => {
  const raw = (socket: string) =>
    new Promise<string>((resolve, reject) => {
      let text = '';
      const c = net.connect(socket, () => c.write('GET /hello HTTP/1.0\r\n\r\n'));
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('end', () => resolve(text));
      c.on('error', reject);
    });
  const one = await startServices({ 'old-artwork.example': { mock: [{ path: '/hello', body: 'hi from 1997' }] } });
  try {
    expect(await raw(one.services.httpSocket)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhi from 1997$/);
  } finally {
    await one.services.close();
  }
  expect((await readLog(one.log))[0]).toMatchObject({ host: 'old-artwork.example', url: 'http://old-artwork.example/hello', outcome: 'served' });

  const two = await startServices({ 'a.example': { mock: [{ path: '/*' }] }, 'b.example': { mock: [{ path: '/*' }] } });
  try {
    expect(await raw(two.services.httpSocket)).toMatch(/^HTTP\/1\.1 421 /);
  } finally {
    await two.services.close();
  }
  expect((await readLog(two.log))[0]).toMatchObject({ host: '', outcome: 'refused', status: 421 });
});
