import { test, expect } from '@playwright/test';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetworkError } from '../../src/network/index.js';
import { readLog, request, scratch, startServices, testCa, writeWarc, writeZip, type Capture } from './network-helpers.js';

const PAGE = '<html><body><h1>Old artwork</h1></body></html>';
const CAPTURES: Capture[] = [
  {
    url: 'http://old-artwork.example/page',
    headers: [
      ['Content-Type', 'text/html; charset=iso-8859-1'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Server', 'Apache/1.3.27'],
      ['Connection', 'close'],
      ['Content-Length', '9999'],
    ],
    body: PAGE,
  },
  {
    url: 'http://old-artwork.example/chunked',
    headers: [
      ['Transfer-Encoding', 'chunked'],
      ['Content-Type', 'text/plain'],
    ],
    body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
  },
  { url: 'http://old-artwork.example/old', status: 301, statusText: 'Moved Permanently', headers: [['Location', 'http://old-artwork.example/page']] },
  { url: 'http://old-artwork.example/search?b=2&a=1', headers: [['Content-Type', 'text/plain']], body: 'results for a=1 b=2' },
  { url: 'http://old-artwork.example/logo.gif', date: '2004-01-01T00:00:00Z', headers: [['Content-Type', 'image/gif']], body: Buffer.from('GIF89a-first') },
  {
    url: 'http://old-artwork.example/logo.gif?v=2',
    date: '2005-01-01T00:00:00Z',
    headers: [
      ['Content-Type', 'image/gif'],
      ['X-Revisit', 'yes'],
    ],
    revisitOf: { url: 'http://old-artwork.example/logo.gif', date: '2004-01-01T00:00:00Z' },
  },
  // A revisit found only by its payload digest, under another URL.
  { url: 'http://old-artwork.example/copy.gif', headers: [['Content-Type', 'image/gif']], revisitOf: { payload: 'GIF89a-first' } },
  { url: 'http://old-artwork.example/vote', method: 'POST', requestAfter: true, headers: [['Content-Type', 'text/plain']], body: 'voted' },
  { url: 'http://old-artwork.example/form', method: 'POST', headers: [['Content-Type', 'text/plain']], body: 'posted' },
];

async function replayAll(archive: string) {
  const { services, log } = await startServices({ 'old-artwork.example': { archive } });
  try {
    const page = await request(services.httpSocket, 'old-artwork.example', '/page');
    expect(page.status).toBe(200);
    expect(page.text).toBe(PAGE);
    expect(page.headers['content-type']).toBe('text/html; charset=iso-8859-1');
    expect(page.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(page.headers.server).toBe('Apache/1.3.27');
    expect(page.headers['content-length']).toBe(String(PAGE.length));

    const chunked = await request(services.httpSocket, 'old-artwork.example', '/chunked');
    expect(chunked.text).toBe('hello world');
    expect(chunked.headers['transfer-encoding']).toBeUndefined();
    expect(chunked.headers['content-length']).toBe('11');

    const redirect = await request(services.httpSocket, 'old-artwork.example', '/old');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('http://old-artwork.example/page');

    const search = await request(services.httpSocket, 'old-artwork.example', '/search?a=1&b=2');
    expect(search.text).toBe('results for a=1 b=2');

    const revisit = await request(services.httpSocket, 'old-artwork.example', '/logo.gif?v=2');
    expect(revisit.status).toBe(200);
    expect(revisit.text).toBe('GIF89a-first');
    expect(revisit.headers['x-revisit']).toBe('yes');

    expect((await request(services.httpSocket, 'old-artwork.example', '/copy.gif')).text).toBe('GIF89a-first');
    expect((await request(services.httpSocket, 'old-artwork.example', '/form', { method: 'POST', body: 'x' })).text).toBe('posted');
    expect((await request(services.httpSocket, 'old-artwork.example', '/form')).status).toBe(404); // only POST was captured
    expect((await request(services.httpSocket, 'old-artwork.example', '/vote', { method: 'POST', body: 'x' })).text).toBe('voted');
    const head = await request(services.httpSocket, 'old-artwork.example', '/page', { method: 'HEAD' });
    expect([head.status, head.body.length, head.headers['content-length']]).toEqual([200, 0, String(PAGE.length)]);

    const missing = await request(services.httpSocket, 'old-artwork.example', '/never-captured.html');
    expect(missing.status).toBe(404);
  } finally {
    await services.close();
  }
  return readLog(log);
}

test('a WARC replays: archived status, headers and body, chunked bodies decoded, redirects, normalized queries, revisits; missing URLs are 404 and logged', async () => {
  const dir = scratch();
  const warc = path.join(dir, 'site.warc');
  await writeWarc(warc, CAPTURES);
  const entries = await replayAll(warc);
  expect(entries.find((e) => e.url === 'http://old-artwork.example/page' && e.method === 'GET')).toMatchObject({
    kind: 'http',
    host: 'old-artwork.example',
    service: 'archive',
    outcome: 'served',
    status: 200,
    bytes: PAGE.length,
  });
  expect(entries.find((e) => e.url === 'http://old-artwork.example/never-captured.html')).toMatchObject({
    outcome: 'missing',
    status: 404,
    service: 'archive',
  });
});

test('a .warc.gz and a .wacz replay the same', async () => {
  const dir = scratch();
  const gz = path.join(dir, 'site.warc.gz');
  await writeWarc(gz, CAPTURES);
  expect((await readFile(gz))[0]).toBe(0x1f);
  expect((await replayAll(gz)).filter((e) => e.outcome === 'served')).toHaveLength(9);

  const wacz = path.join(dir, 'site.wacz');
  await writeZip(wacz, {
    'datapackage.json': Buffer.from('{"profile":"data-package","resources":[]}'),
    'archive/data.warc.gz': await readFile(gz),
    'indexes/index.cdx': Buffer.from(''),
  });
  const entries = await replayAll(wacz);
  expect(entries.filter((e) => e.outcome === 'served')).toHaveLength(9);
  expect(entries.filter((e) => e.outcome === 'missing')).toHaveLength(2);
});

test('an https request finds the http capture of the same URL', async () => {
  const dir = scratch();
  const warc = path.join(dir, 'site.warc');
  await writeWarc(warc, CAPTURES);
  const { services } = await startServices({ 'old-artwork.example': { archive: warc } });
  try {
    const page = await request(services.httpsSocket, 'old-artwork.example', '/page', { ca: (await testCa()).certPem });
    expect(page.text).toBe(PAGE);
  } finally {
    await services.close();
  }
});

test('an archive that is not a WARC, or a WACZ without WARCs, is refused at start with a NetworkError', async () => {
  const dir = scratch();
  const notWarc = path.join(dir, 'notes.warc');
  await writeFile(notWarc, 'these are my notes, not a WARC\n');
  const error = await startServices({ 'old-artwork.example': { archive: notWarc } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NetworkError);
  expect(error).toMatchObject({ code: 'ENETARCHIVE', message: expect.stringContaining('notes.warc') });

  const empty = path.join(dir, 'empty.wacz');
  await writeZip(empty, { 'datapackage.json': Buffer.from('{}') });
  await expect(startServices({ 'old-artwork.example': { archive: empty } })).rejects.toThrow(/holds no archive\/\*\.warc/);
});
