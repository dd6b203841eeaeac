import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { backendsOf, startDemo } from '../../src/index.js';
import { qemuPid, tcpGreeting, virsh } from './support/host.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });

/** Where libvirt says a VM's VNC server is: `vnc+unix:///path` or `vnc://127.0.0.1:N`. */
function displayTarget(display: string): { socket: string } | { port: number } {
  if (display.startsWith('vnc+unix://')) return { socket: display.slice('vnc+unix://'.length) };
  const m = display.match(/^vnc:\/\/[^:]+:(\d+)/);
  if (!m) throw new Error(`unexpected domdisplay: ${display}`);
  return { port: 5900 + Number(m[1]) };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** Connects as the user `nobody` and returns the first bytes the server sends, or the error code. */
async function greetingAsNobody(target: { socket: string } | { port: number }): Promise<string> {
  const script = `
const net = require('node:net');
const s = ${'socket' in target ? `net.connect(${JSON.stringify(target.socket)})` : `net.connect(${target.port}, '127.0.0.1')`};
const t = setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 5000);
s.once('data', (d) => { console.log('GREETING ' + d.toString('latin1').trim()); s.destroy(); clearTimeout(t); });
s.once('error', (e) => { console.log('ERROR ' + e.code); clearTimeout(t); });`;
  const r = await execa('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { cwd: '/' });
  return r.stdout.trim();
}

test('VNC refuses another uid: a unix socket in a 0700 directory, 0600, and no TCP listener', async ({}, testInfo) => {
  test.skip(process.getuid?.() !== 0, 'needs root to run a client as nobody');
  let socket = '';
  await startDemo('vnc-private', { outputDir: testInfo.outputPath('videos') }, (demo) =>
    demo.vm('tiny', { resources: { memoryMiB: 512 } }, async (vm) => {
      const target = displayTarget(await virsh('domdisplay', vm.name));
      // Another local user gets nowhere, whatever libvirt says the display is.
      const other = await greetingAsNobody(target);
      expect(other).not.toContain('RFB');
      expect(other).toBe('ERROR EACCES');

      expect('socket' in target).toBe(true);
      socket = (target as { socket: string }).socket;
      expect(vm.vncEndpoint).toEqual({ socket });
      expect('port' in vm.vncEndpoint).toBe(false);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      const dir = statSync(dirname(socket));
      expect(dir.mode & 0o777).toBe(0o700);
      expect(dir.uid).toBe(process.getuid!());
      // The owner does get in.
      expect(await tcpGreeting(socket)).toMatch(/^RFB 003\.00\d/);
      // QEMU was given a unix socket only.
      const args = readFileSync(`/proc/${await qemuPid(vm.name)}/cmdline`, 'latin1').split('\0');
      expect(args.filter((a, i) => args[i - 1] === '-vnc')).toEqual([expect.stringMatching(/^vnc=unix:/)]);

      // The documented way for a TCP-only viewer: the printed socat bridge works.
      const port = await freePort();
      const recipe = vm.vncAttachCommand(port).split('#')[0]!.trim().split(/\s+/);
      expect(recipe[0]).toBe('socat');
      const bridge = execa(recipe[0]!, recipe.slice(1), { reject: false });
      try {
        let greeting = '';
        for (let i = 0; i < 50 && !greeting; i++) {
          greeting = await tcpGreeting(port, 1000).catch(() => '');
          if (!greeting) await new Promise((r) => setTimeout(r, 100));
        }
        expect(greeting).toMatch(/^RFB 003\.00\d/);
      } finally {
        bridge.kill('SIGTERM');
        await bridge;
      }

      // The guest agent's commands go through virsh's shell on stdin; a real error still surfaces.
      await expect(backendsOf(vm).domain.agent('guest-ping', undefined, 5)).rejects.toThrow(/agent/i);
    }),
  );
  expect(socket).not.toBe('');
  expect(existsSync(socket)).toBe(false);
});

test('DEMOTOOL_VNC_TCP=1 brings back the loopback TCP listener, on request only', async ({}, testInfo) => {
  const before = process.env.DEMOTOOL_VNC_TCP;
  process.env.DEMOTOOL_VNC_TCP = '1';
  try {
    await startDemo('vnc-tcp', { outputDir: testInfo.outputPath('videos') }, (demo) =>
      demo.vm('tiny', { resources: { memoryMiB: 512 } }, async (vm) => {
        const endpoint = vm.vncEndpoint;
        const port = 'port' in endpoint ? endpoint.port : NaN;
        expect(endpoint).toEqual({ host: '127.0.0.1', port });
        expect(displayTarget(await virsh('domdisplay', vm.name))).toEqual({ port });
        expect(await tcpGreeting(port)).toMatch(/^RFB 003\.00\d/);
        const from = vm.serial.mark();
        await vm.keyboard.type('echo typed-over-tcp > /dev/ttyS0\n', { delay: 0 });
        await vm.waitForSerial(/typed-over-tcp/, { from });
      }),
    );
  } finally {
    if (before === undefined) delete process.env.DEMOTOOL_VNC_TCP;
    else process.env.DEMOTOOL_VNC_TCP = before;
  }
});
