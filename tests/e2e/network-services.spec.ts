// Network services seen from a real guest (debian-12-desktop): its DHCP-given resolver is the
// gateway, answered by demotool; configured names reach the archive, mirror and mock services on
// ports 80 and 443; everything else is refused. One VM for the file (the fixtures' VM).
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, expect } from '../../fixtures/index.js';
import type { Vm } from '../../src/index.js';
import { scratchDir } from '../support/scratch-dir.js';
import { ARCHIVED_HEADING, ARCHIVED_TEXT, writeArchive, writeMirror } from './support/network-sites.js';

// The files the service map names exist before the VM boots (the options are checked then).
const sites = scratchDir('network-services');
await writeArchive(join(sites, 'old-artwork.warc'), 'old-artwork.example');
await writeMirror(join(sites, 'mirror'));

test.describe.configure({ mode: 'serial', timeout: 10 * 60_000 });
test.use({
  vmImage: 'debian-12-desktop',
  vmOptions: {
    installLocalCa: true,
    services: {
      'old-artwork.example': { archive: join(sites, 'old-artwork.warc') },
      'mirror.example': { mirror: join(sites, 'mirror') },
      'api.example': { mock: [{ path: '/v1/status', status: 418, body: { teapot: true, since: 1998 }, delayMs: 1500 }] },
      'secure.example': { mock: [{ path: '/', body: 'a secure hello\n' }] },
    },
  },
});

interface LoggedRequest {
  host?: string;
  outcome?: string;
  [key: string]: unknown;
}

function requests(vm: Vm): LoggedRequest[] {
  return readFileSync(vm.requestLog!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LoggedRequest);
}

/** A guest shell command's output, stdout and stderr together, and its exit code. */
async function sh(vm: Vm, command: string): Promise<{ out: string; code: number }> {
  const r = await vm.exec(`( ${command} ) 2>&1`, { timeout: 60_000 });
  return { out: r.stdout, code: r.exitCode };
}

test('archive: wget in the guest prints the archived body, and the log shows it served', async ({ vm }) => {
  expect(vm.requestLog).toBeTruthy();
  // DHCP gave the guest the gateway as its resolver.
  expect((await sh(vm, 'cat /etc/resolv.conf')).out).toMatch(/^nameserver 192\.168\.122\.1$/m);
  const r = await sh(vm, 'wget -q -O- http://old-artwork.example/page');
  expect(r.code, r.out).toBe(0);
  expect(r.out).toContain(ARCHIVED_TEXT);
  expect((await sh(vm, 'getent hosts old-artwork.example')).out).toMatch(/^192\.168\.122\.1\s+old-artwork\.example/);
  await expect.poll(() => requests(vm).some((e) => e.host === 'old-artwork.example' && e.outcome === 'served')).toBe(true);
});

test('mock: a route answers with its status and JSON, and its delay is kept', async ({ vm }) => {
  const r = await sh(
    vm,
    'a=$(date +%s%N); curl -s -o /tmp/body -w "%{http_code}" http://api.example/v1/status; b=$(date +%s%N); echo; echo ms=$(( (b - a) / 1000000 )); cat /tmp/body',
  );
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/^418$/m);
  const ms = Number(r.out.match(/ms=(\d+)/)![1]);
  expect(ms).toBeGreaterThanOrEqual(1500);
  expect(JSON.parse(r.out.split('\n').slice(2).join('\n'))).toEqual({ teapot: true, since: 1998 });
});

test('mirror: a page and an image come back with their content types', async ({ vm }) => {
  const page = await sh(vm, 'wget -S -O /tmp/index.html http://mirror.example/index.html && cat /tmp/index.html');
  expect(page.code, page.out).toBe(0);
  expect(page.out).toMatch(/Content-Type: text\/html/i);
  expect(page.out).toContain('Mirrored page');
  const image = await sh(vm, 'wget -S -O /tmp/logo.png http://mirror.example/logo.png && od -An -c -N4 /tmp/logo.png');
  expect(image.code, image.out).toBe(0);
  expect(image.out).toMatch(/Content-Type: image\/png/i);
  expect(image.out).toMatch(/211\s+P\s+N\s+G/);
});

test('refused: an unconfigured name does not resolve, and the log shows it refused', async ({ vm }) => {
  const r = await sh(vm, 'getent hosts not-configured.example');
  expect(r.code).not.toBe(0);
  expect(r.out.trim()).toBe('');
  await expect.poll(() => requests(vm).some((e) => e.host === 'not-configured.example' && e.outcome === 'refused')).toBe(true);
  // The internet's names are refused the same way: no real resolver is asked.
  const w = await sh(vm, 'wget -T 5 -t 1 -O- http://example.com/');
  expect(w.code).not.toBe(0);
  expect(w.out).toMatch(/unable to resolve host address/i);
});

test('refused: the guest reaches no other host port and no outside address', async ({ vm }) => {
  let connections = 0;
  const server = createServer((s) => (connections++, s.end('you should not see this\n')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await sh(vm, `wget -T 5 -t 1 -O- http://192.168.122.1:${port}/`);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toContain('you should not see this');
    // An outside address (TEST-NET-3): the namespace has no route, so nothing leaves the host.
    const out = await sh(vm, 'wget -T 5 -t 1 -O- http://203.0.113.10/');
    expect(out.code).not.toBe(0);
    expect(connections).toBe(0);
  } finally {
    server.close();
  }
});

test('https: served through the local CA; wget accepts it with the CA and refuses it without', async ({ vm }) => {
  // installLocalCa put it in the system store: plain wget trusts it.
  const store = await sh(vm, 'wget -q -O- https://secure.example/');
  expect(store.code, store.out).toBe(0);
  expect(store.out).toContain('a secure hello');
  // An empty CA directory instead of the system store: the CA file alone makes the difference.
  await vm.exec('mkdir -p /tmp/no-cas');
  const withCa = await sh(vm, 'wget -q --ca-directory=/tmp/no-cas --ca-certificate=/etc/demotool/ca.pem -O- https://secure.example/');
  expect(withCa.code, withCa.out).toBe(0);
  expect(withCa.out).toContain('a secure hello');
  const without = await sh(vm, 'wget --ca-directory=/tmp/no-cas -O- https://secure.example/');
  expect(without.code).not.toBe(0);
  expect(without.out).not.toContain('a secure hello');
  expect(without.out).toMatch(/certificate/i);
});

test('browser: dillo shows the archived page, text and image', async ({ vm }) => {
  await vm.exec('nohup dillo -g 900x600+40+40 http://old-artwork.example/page >/dev/null 2>&1 &');
  await vm.exec('xdotool search --sync --onlyvisible --class Dillo', { timeout: 120_000 });
  await expect(vm).toShowText(ARCHIVED_HEADING, { timeout: 60_000 });
  await vm.waitForStableScreen({ duration: 1000 });
  // Only dillo's window: the xterm beside it is not the point.
  await expect(vm).toHaveScreenshot('dillo-archived-page.png', { clip: { x: 40, y: 40, width: 900, height: 600 }, maxDiffPixelRatio: 0.01 });
});
