import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatRequestReport, summarizeRequestLog, type RequestReport } from '../../src/network/index.js';
import { dnsQuery, readLog, request, scratch, startServices, writeWarc } from './network-helpers.js';

test.describe.configure({ timeout: 120_000 });

test('the request log has a line per guest request; the report counts outcomes and hosts and lists missing URLs and refused names', async () => {
  const dir = scratch();
  const warc = path.join(dir, 'site.warc');
  await writeWarc(warc, [{ url: 'http://old-artwork.example/', headers: [['Content-Type', 'text/html']], body: '<html>home</html>' }]);
  const { services, log } = await startServices({ 'old-artwork.example': { archive: warc }, 'api.example': { mock: [{ path: '/ping', body: 'pong' }] } });
  try {
    await dnsQuery(services.dnsSocket, 'old-artwork.example');
    await dnsQuery(services.dnsSocket, 'ads.tracker.example');
    await dnsQuery(services.dnsSocket, 'ads.tracker.example');
    await request(services.httpSocket, 'old-artwork.example', '/');
    await request(services.httpSocket, 'old-artwork.example', '/images/gone.jpg');
    await request(services.httpSocket, 'old-artwork.example', '/images/gone.jpg');
    await request(services.httpSocket, 'api.example', '/ping');
    await request(services.httpSocket, 'api.example', '/v2');
  } finally {
    await services.close();
  }
  const entries = await readLog(log);
  expect(entries).toHaveLength(8);
  for (const e of entries) {
    expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(typeof e.ms).toBe('number');
  }
  expect(entries[3]).toMatchObject({
    kind: 'http',
    host: 'old-artwork.example',
    method: 'GET',
    url: 'http://old-artwork.example/',
    service: 'archive',
    outcome: 'served',
    status: 200,
    bytes: 17,
  });

  const second = path.join(dir, 'yesterday.jsonl');
  await writeFile(
    second,
    JSON.stringify({ time: new Date().toISOString(), kind: 'http', host: 'api.example', url: 'http://api.example/v1', outcome: 'missing', status: 404 }) +
      '\nnot json\n',
  );
  const report: RequestReport = await summarizeRequestLog(log, second);
  expect(report.total).toBe(9);
  expect(report.unreadable).toBe(1);
  expect(report.byOutcome).toEqual({ served: 3, missing: 4, refused: 2, error: 0 });
  expect(report.byHost['ads.tracker.example']).toEqual({ served: 0, missing: 0, refused: 2, error: 0 });
  expect(report.byHost['old-artwork.example']).toEqual({ served: 2, missing: 2, refused: 0, error: 0 });
  expect(report.missing).toEqual([
    { url: 'http://api.example/v1', count: 1 },
    { url: 'http://api.example/v2', count: 1 },
    { url: 'http://old-artwork.example/images/gone.jpg', count: 2 },
  ]);
  expect(report.refused).toEqual([{ host: 'ads.tracker.example', count: 2 }]);
  const text = formatRequestReport(report);
  expect(text).toContain('9 requests: 3 served, 4 missing, 2 refused, 0 error (1 unreadable lines skipped)');
  expect(text).toContain('  http://old-artwork.example/images/gone.jpg  (2×)');

  // The CLI, as a user runs it.
  const cli = await execa('node', ['--import', 'tsx', 'src/cli/main.ts', 'network', 'report', log, second], { reject: false });
  expect(cli.exitCode).toBe(0);
  expect(cli.stdout).toBe(text);
  const json = await execa('node', ['--import', 'tsx', 'src/cli/main.ts', 'network', 'report', '--json', log], { reject: false });
  expect(JSON.parse(json.stdout)).toMatchObject({ total: 8, refused: [{ host: 'ads.tracker.example', count: 2 }] });
  const none = await execa('node', ['--import', 'tsx', 'src/cli/main.ts', 'network', 'report', path.join(dir, 'nope.jsonl')], { reject: false });
  expect(none.exitCode).toBe(1);
  expect(none.stderr).toContain('nope.jsonl');
});

test('network ca prints the CA certificate’s path (made under XDG_DATA_HOME on first use) and how to install it', async () => {
  const data = scratch();
  const run = () => execa('node', ['--import', 'tsx', 'src/cli/main.ts', 'network', 'ca'], { env: { XDG_DATA_HOME: data }, reject: false });
  const first = await run();
  expect(first.exitCode).toBe(0);
  expect(first.stdout).toBe(path.join(data, 'demotool', 'ca', 'ca.pem'));
  expect(first.stderr).toContain('keytool -importcert -cacerts');
  expect(first.stderr).toContain(`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n demotool -i ${first.stdout}`);
  expect((await run()).stdout).toBe(first.stdout);
});
