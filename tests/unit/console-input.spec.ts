import { test, expect } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeIntoConsole } from '../../src/api/console-input.js';
import { domainXml, type DomainSpec } from '../../src/libvirt/domain-xml.js';

// The e2e warm-start test types into a real guest's console; here: how the socket is used, with a
// stand-in for QEMU's listening chardev (what it echoes, and when the client goes).

const spec = {
  name: 'demo-con',
  disk: '/r/demo-con.qcow2',
  memoryMiB: 256,
  cpus: 1,
  accel: 'tcg',
  serialLog: '/r/demo-con.serial.log',
  guestAgent: false,
  network: 'closed',
  vnc: { socket: '/r/vnc/demo-con.sock' },
  owner: { pid: 1, hostname: 'h', startedAt: 'now', overlay: '/r/demo-con.qcow2', image: 'tiny' },
} as DomainSpec;

test('the serial console is a unix socket QEMU listens on, logged as before; without one it stays a pty', () => {
  const xml = domainXml({ ...spec, consoleSocket: '/r/vnc/demo-con.console.sock' });
  expect(xml).toMatch(
    /<serial type='unix'>\s*<source mode='bind' path='\/r\/vnc\/demo-con\.console\.sock'\/>\s*<log file='\/r\/demo-con\.serial\.log' append='on'\/>\s*<target port='0'\/>\s*<\/serial>/,
  );
  expect(xml).toMatch(/<console type='unix'>\s*<source mode='bind' path='\/r\/vnc\/demo-con\.console\.sock'\/><target type='serial' port='0'\/><\/console>/);
  expect(xml).not.toContain("type='pty'");
  const pty = domainXml(spec);
  expect(pty).toContain("<serial type='pty'>\n      <log file='/r/demo-con.serial.log' append='on'/>\n      <target port='0'/>\n    </serial>");
  expect(pty).toContain("<console type='pty'><target type='serial' port='0'/></console>");
  expect(pty).not.toContain('console.sock');
});

let dir: string;
let server: Server | undefined;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dt-console-'));
});
test.afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A console that echoes what it reads after `delayMs`, a byte at a time (as a UART does), and records whether the client stayed for it. */
async function fakeConsole(delayMs: number, echo = true): Promise<{ path: string; received: () => string; closedAt: () => number | undefined }> {
  const path = join(dir, 'console.sock');
  let received = '';
  let closedAt: number | undefined;
  server = createServer((socket: Socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (!echo) return;
      setTimeout(() => {
        for (const ch of `tiny# ${chunk.toString().replace('\r', '\r\n')}`) if (!socket.destroyed) socket.write(ch);
      }, delayMs);
    });
    socket.on('close', () => (closedAt = Date.now()));
  });
  await new Promise<void>((r) => server!.listen(path, r));
  return { path, received: () => received, closedAt: () => closedAt };
}

test('the line is written with a carriage return, and the socket stays open until the guest echoed it', async () => {
  const c = await fakeConsole(300);
  const started = Date.now();
  await expect(typeIntoConsole(c.path, 'date -s @1795716667 >/dev/null', 2_000)).resolves.toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  expect(c.received()).toBe('date -s @1795716667 >/dev/null\r');
  await expect.poll(() => c.closedAt()).toBeGreaterThanOrEqual(started + 290);
});

test('a console that never echoes: false after the wait, and the socket is closed', async () => {
  const c = await fakeConsole(0, false);
  const started = Date.now();
  await expect(typeIntoConsole(c.path, 'date -s @1', 400)).resolves.toBe(false);
  expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  await expect.poll(() => c.closedAt()).toBeDefined();
});

test('no console listening is an error (ENOENT), not a hang', async () => {
  await expect(typeIntoConsole(join(dir, 'missing.sock'), 'date', 5_000)).rejects.toThrow(/ENOENT/);
});
