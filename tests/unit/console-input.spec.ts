import { test, expect } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInConsole } from '../../src/api/console-input.js';
import { domainXml } from '../../src/libvirt/domain-xml.js';
import { domainSpec } from '../support/domain-spec.js';

// The e2e warm-start test types into a real guest's console; here: how the socket is used, with a
// stand-in for QEMU's listening chardev (what it echoes, and when the client goes).

const spec = domainSpec('demo-con', { vnc: { socket: '/r/vnc/demo-con.sock' } });

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

/**
 * A console shell: after `delayMs` it echoes the line a byte at a time (as a UART does), then
 * prints what the line's `echo` prints (the shell's quotes removed) and a prompt; or says nothing.
 */
async function fakeConsole(delayMs: number, answer = true): Promise<{ path: string; received: () => string; closedAt: () => number | undefined }> {
  const path = join(dir, 'console.sock');
  let received = '';
  let closedAt: number | undefined;
  server = createServer((socket: Socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (!answer) return;
      const line = chunk.toString().replace('\r', '');
      const printed = /; echo (\S+)$/.exec(line)?.[1]?.replace(/"/g, '') ?? '';
      setTimeout(() => {
        for (const ch of `${line}\r\n${printed}\r\n`) if (!socket.destroyed) socket.write(ch);
        // The prompt comes a little later, as the shell gets to it.
        setTimeout(() => !socket.destroyed && socket.write('tiny# '), 40);
      }, delayMs);
    });
    socket.on('close', () => (closedAt = Date.now()));
  });
  await new Promise<void>((r) => server!.listen(path, r));
  return { path, received: () => received, closedAt: () => closedAt };
}

test('the command is typed with a marker echoed after it, and the socket stays open until the marker and the prompt after it', async () => {
  const c = await fakeConsole(300);
  const started = Date.now();
  await expect(runInConsole(c.path, 'date -s @1795716667 >/dev/null', 2_000)).resolves.toBe(true);
  // The echo of the line alone does not count: its marker is written "A""B".
  expect(c.received()).toMatch(/^date -s @1795716667 >\/dev\/null; echo DEMOTOOL""-DONE-[a-z0-9]+\r$/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(300 + 40);
  await expect.poll(() => c.closedAt()).toBeGreaterThanOrEqual(started + 340);
});

test('a console that never answers: false after the wait, and the socket is closed', async () => {
  const c = await fakeConsole(0, false);
  const started = Date.now();
  await expect(runInConsole(c.path, 'date -s @1', 400)).resolves.toBe(false);
  expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  await expect.poll(() => c.closedAt()).toBeDefined();
});

test('no console listening is an error (ENOENT), not a hang', async () => {
  await expect(runInConsole(join(dir, 'missing.sock'), 'date', 5_000)).rejects.toThrow(/ENOENT/);
});
