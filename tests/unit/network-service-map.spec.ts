import { test, expect } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseServiceMap, type MockRoute, type ServiceMap, type ServiceSpec } from '../../src/network/index.js';
import { scratch } from './network-helpers.js';

test('parseServiceMap accepts the four kinds and refuses bad keys, kinds, routes and files with the key named', async () => {
  const dir = scratch();
  const warc = path.join(dir, 'site.warc.gz');
  await writeFile(warc, '');
  await mkdir(path.join(dir, 'mirror'));
  await writeFile(path.join(dir, 'api.mjs'), 'export default () => undefined;');
  const routes: MockRoute[] = [{ method: 'POST', path: '/v1/*', status: 201, headers: { 'X-A': 'b' }, body: { ok: true }, delayMs: 100 }];
  const archive: ServiceSpec = { archive: warc };
  const good: ServiceMap = {
    'old-artwork.example': archive,
    '*.static.example': { mirror: path.join(dir, 'mirror') },
    'api.example': { mock: routes },
    'dyn.example': { mock: path.join(dir, 'api.mjs') },
    'live.example': { record: path.join(dir, 'new.warc'), upstream: 'http://127.0.0.1:8080' },
  };
  expect(parseServiceMap(good)).toEqual(good);

  const bad = (map: unknown, message: RegExp) => expect(() => parseServiceMap(map, 'exhibit config services')).toThrow(message);
  bad({ 'old-artwork.example': { archive: path.join(dir, 'gone.warc') } }, /exhibit config services old-artwork.example: .*gone.warc does not exist/);
  bad({ 'old-artwork.example': { archive: path.join(dir, 'mirror') } }, /old-artwork.example: archive .* is not a .warc, .warc.gz or .wacz file/);
  bad({ 'a.example': { mirror: warc } }, /a.example: .*site.warc.gz is not a directory/);
  bad({ 'a.example': { mirror: path.join(dir, 'mirror'), mock: [] } }, /a.example/);
  bad({ 'a.example': { proxy: 'x' } }, /a.example/);
  bad({ 'a.example': { mock: [{ path: 'no-slash' }] } }, /a.example.mock.0.path/);
  bad({ 'a.example': { mock: [{ path: '/', status: 999 }] } }, /a.example.mock.0.status/);
  bad({ 'a.example': { mock: [{ path: '/', colour: 'red' }] } }, /colour/);
  bad({ 'Bad Name!': { mock: [] } }, /"Bad Name!" is not a hostname/);
  bad({ 'a.*.example': { mock: [] } }, /is not a hostname/);
  bad({ 'a.example': { record: path.join(dir, 'no-dir', 'x.warc') } }, /a.example: .*no-dir does not exist/);
  bad({ 'a.example': { record: path.join(dir, 'x.warc'), upstream: 'ftp://x' } }, /a.example.upstream/);
  bad('not a map', /exhibit config services/);
});
