import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../../src/images/index.js';

// Boots the tiny image straight under QEMU (no libvirt: that is the vm layer's business) and
// types on its VGA console through the monitor's sendkey, the PS/2 keyboard a user would use.

const KEYS: Record<string, string> = { ' ': 'spc', '>': 'shift-dot', '/': 'slash', '-': 'minus', '.': 'dot', '\n': 'ret' };

class Monitor {
  private constructor(private sock: net.Socket) {}
  static async connect(file: string): Promise<Monitor> {
    for (let i = 0; i < 100; i++) {
      const s = await new Promise<net.Socket | undefined>((resolve) => {
        const c = net.createConnection(file, () => resolve(c));
        c.on('error', () => resolve(undefined));
      });
      if (s) return new Monitor(s);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no QEMU monitor at ${file}`);
  }
  async send(cmd: string) {
    this.sock.write(cmd + '\n');
    await new Promise((r) => setTimeout(r, 30));
  }
  async key(combo: string) {
    await this.send(`sendkey ${combo}`);
  }
  async type(text: string) {
    for (const ch of text) await this.key(KEYS[ch] ?? (/[A-Z]/.test(ch) ? `shift-${ch.toLowerCase()}` : ch));
  }
  close() {
    this.sock.destroy();
  }
}

async function waitFor(file: string, what: string | RegExp, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (typeof what === 'string' ? text.includes(what) : what.test(text)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`serial never showed ${what}; tail:\n${text.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('tiny boots to a shell on tty1 that prints the ready marker and answers the keyboard', async ({}, testInfo) => {
  test.setTimeout(5 * 60_000);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-tiny-'));
  const serial = path.join(tmp, 'serial.log');
  const sock = path.join(tmp, 'monitor.sock');
  let qemu: ReturnType<typeof execa> | undefined;
  let mon: Monitor | undefined;
  try {
    const image = await new ImageCache({ dir: path.join(tmp, 'images') }).ensure('tiny');
    const overlay = path.join(tmp, 'overlay.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.path, '-F', 'qcow2', overlay]);
    qemu = execa(
      'qemu-system-x86_64',
      [
        '-machine',
        'accel=tcg',
        '-m',
        String(image.minMemoryMiB),
        '-display',
        'none',
        '-nic',
        'none',
        '-kernel',
        image.boot!.kernel,
        '-initrd',
        image.boot!.initrd,
        '-append',
        image.boot!.cmdline,
        '-drive',
        `file=${overlay},if=virtio,format=qcow2`,
        '-serial',
        `file:${serial}`,
        '-monitor',
        `unix:${sock},server,nowait`,
      ],
      { reject: false },
    );
    const bootMs = await waitFor(serial, image.readyMarker!, 120_000);
    testInfo.annotations.push({ type: 'boot to marker', description: `${bootMs} ms` });
    mon = await Monitor.connect(sock);

    await mon.type('echo typed-on-tty1 > /dev/ttyS0\n');
    await waitFor(serial, 'typed-on-tty1', 20_000);

    await mon.type('hostname > /dev/ttyS0\n');
    await waitFor(serial, /^tiny\r?$/m, 20_000);

    // cat copies typed lines to the serial port until Ctrl-D ends it.
    await mon.type('cat > /dev/ttyS0\n');
    await mon.type('line through cat\n');
    await waitFor(serial, 'line through cat', 20_000);
    await mon.key('ctrl-d');
    await mon.type('echo cat-ended > /dev/ttyS0\n');
    await waitFor(serial, 'cat-ended', 20_000);

    // Ctrl-C interrupts a foreground job (job control on tty1).
    await mon.type('sleep 100\n');
    await new Promise((r) => setTimeout(r, 1000));
    await mon.key('ctrl-c');
    await mon.type('echo sleep-interrupted > /dev/ttyS0\n');
    await waitFor(serial, 'sleep-interrupted', 20_000);

    // Nothing from the kernel reached the consoles after the marker.
    const after = (await fs.readFile(serial, 'utf8')).split(image.readyMarker!)[1];
    expect(after).not.toMatch(/^\[\s*\d+\.\d+\]/m);

    await mon.send(`screendump ${path.join(tmp, 'tty1.ppm')}`);
    await new Promise((r) => setTimeout(r, 500));
    const ppm = await fs.readFile(path.join(tmp, 'tty1.ppm'));
    expect(ppm.subarray(0, 2).toString()).toBe('P6');
    await testInfo.attach('tty1.ppm', { body: ppm, contentType: 'image/x-portable-pixmap' });
  } finally {
    mon?.close();
    qemu?.kill('SIGKILL');
    await qemu?.catch(() => undefined);
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
