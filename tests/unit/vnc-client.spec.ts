/**
 * VncClient against a small in-process RFB server on a unix socket: the mirror, ordered
 * input, and reconnecting after the server drops the connection (as QEMU does on a
 * snapshot revert). FramebufferMirror's bookkeeping is tested on its own first.
 */
import { test, expect } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FramebufferMirror } from '../../src/vnc/framebuffer-mirror.js';
import type { PixelFormat } from '../../src/vnc/pixels.js';
import { Encoding } from '../../src/vnc/rfb2.js';
import { VncClient, VncDisconnectedError } from '../../src/vnc/index.js';
import type { Logger } from '../../src/log.js';

/** Keeps the expected 'disconnected' warnings out of the test output. */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

const FORMAT: PixelFormat = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColor: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
};

/** `width`x`height` pixels of one colour, in FORMAT (b, g, r, x little-endian). */
function solid(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([b, g, r, 0], p * 4);
  return data;
}

test.describe('FramebufferMirror', () => {
  function mirror() {
    const events: string[] = [];
    const m = new FramebufferMirror({
      update: (v) => events.push(`update:${v}`),
      resize: (s) => events.push(`resize:${s.width}x${s.height}`),
      cursor: (c) => events.push(`cursor:${c.width}x${c.height}`),
    });
    return { m, events };
  }

  test('is primed only once a session has painted every pixel; one version per painted update', () => {
    const { m, events } = mirror();
    m.restart({ width: 4, height: 2 });
    expect(events).toEqual(['resize:4x2', 'update:1']);
    expect(m.frame.rgba.readUInt32BE(0)).toBe(0x000000ff); // opaque black until painted
    m.paint({ x: 0, y: 0, width: 4, height: 1, encoding: Encoding.raw, data: solid(4, 1, [255, 0, 0]) }, FORMAT);
    expect(m.endUpdate()).toBe(true);
    expect(m.primed).toBe(false);
    m.paint({ x: 0, y: 1, width: 4, height: 1, encoding: Encoding.raw, data: solid(4, 1, [0, 255, 0]) }, FORMAT);
    m.endUpdate();
    expect(m.primed).toBe(true);
    expect(m.version).toBe(3);
    expect([...m.frame.rgba.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    expect([...m.frame.rgba.subarray(16, 20)]).toEqual([0, 255, 0, 255]);
    m.endUpdate(); // nothing painted: no new version
    expect(m.version).toBe(3);
    m.lost();
    expect(m.primed).toBe(false);
  });

  test('a server resize asks for a full update next and reallocates the picture', () => {
    const { m, events } = mirror();
    m.restart({ width: 2, height: 2 });
    m.serverResized({ width: 3, height: 1 });
    expect(events).toEqual(['resize:2x2', 'update:1', 'resize:3x1', 'update:2']);
    expect(m.endUpdate()).toBe(false);
    expect(m.endUpdate()).toBe(true);
    expect(m.frame.rgba.length).toBe(3 * 4);
  });

  test('a refresh counts once every pixel has been painted again after it was asked for', () => {
    const { m } = mirror();
    m.restart({ width: 4, height: 2 });
    m.paint({ x: 0, y: 0, width: 4, height: 2, encoding: Encoding.raw, data: solid(4, 2, [1, 1, 1]) }, FORMAT);
    m.endUpdate();
    expect(m.refreshes).toBe(0);
    m.startRefresh();
    m.paint({ x: 0, y: 0, width: 4, height: 1, encoding: Encoding.raw, data: solid(4, 1, [2, 2, 2]) }, FORMAT);
    m.endUpdate();
    expect(m.refreshes).toBe(0);
    m.paint({ x: 0, y: 1, width: 4, height: 1, encoding: Encoding.raw, data: solid(4, 1, [2, 2, 2]) }, FORMAT);
    m.endUpdate();
    expect(m.refreshes).toBe(1);
    m.paint({ x: 0, y: 0, width: 4, height: 2, encoding: Encoding.raw, data: solid(4, 2, [3, 3, 3]) }, FORMAT);
    m.endUpdate();
    expect(m.refreshes).toBe(1);
  });

  test('an empty cursor means hidden: one transparent pixel', () => {
    const { m } = mirror();
    m.setCursor({ x: 0, y: 0, width: 0, height: 0, encoding: Encoding.cursor }, FORMAT);
    expect(m.cursor).toEqual({ width: 1, height: 1, hotX: 0, hotY: 0, rgba: Buffer.alloc(4) });
    m.setCursor({ x: 1, y: 0, width: 2, height: 1, encoding: Encoding.cursor, data: solid(2, 1, [1, 2, 3]), mask: Buffer.from([0b1000_0000]) }, FORMAT);
    expect(m.cursor?.hotX).toBe(1);
    expect([...(m.cursor?.rgba ?? [])]).toEqual([1, 2, 3, 255, 1, 2, 3, 0]);
  });
});

/** A VNC server that serves a 4x2 screen of one colour and records the key events it gets. */
class FakeVncServer {
  readonly keys: string[] = [];
  colour: [number, number, number] = [10, 20, 30];
  connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((s) => this.serve(s));

  constructor(readonly socketPath: string) {}

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  /** Drops every connection, as QEMU does when it restarts. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('RFB 003.008\n');
    let buffered = Buffer.alloc(0);
    let stage: 'version' | 'security' | 'init' | 'messages' = 'version';
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const need = stage === 'version' ? 12 : stage === 'security' || stage === 'init' ? 1 : messageLength(buffered);
        if (need === undefined || buffered.length < need) return;
        const message = buffered.subarray(0, need);
        buffered = buffered.subarray(need);
        if (stage === 'version') {
          socket.write(Buffer.from([1, 1])); // one security type: None
          stage = 'security';
        } else if (stage === 'security') {
          socket.write(Buffer.alloc(4)); // SecurityResult OK
          stage = 'init';
        } else if (stage === 'init') {
          const init = Buffer.alloc(24 + 4);
          init.writeUInt16BE(4, 0);
          init.writeUInt16BE(2, 2);
          Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(init, 4);
          init.writeUInt32BE(4, 20);
          Buffer.from('fake').copy(init, 24);
          socket.write(init);
          stage = 'messages';
        } else this.onMessage(socket, message);
      }
    });
  }

  private onMessage(socket: net.Socket, m: Buffer): void {
    const type = m.readUInt8(0);
    if (type === 4) this.keys.push(`${m.readUInt8(1) ? 'down' : 'up'}:${m.readUInt32BE(4).toString(16)}`);
    // a full (non-incremental) request gets the whole screen; incremental ones get nothing, as on an idle screen
    if (type === 3 && m.readUInt8(1) === 0) {
      const header = Buffer.alloc(4 + 12);
      header.writeUInt16BE(1, 2);
      header.writeUInt16BE(4, 8);
      header.writeUInt16BE(2, 10);
      header.writeInt32BE(Encoding.raw, 12);
      socket.write(Buffer.concat([header, solid(4, 2, this.colour)]));
    }
  }
}

/** Length of the client message at the start of `b`, or undefined until its header is in. */
function messageLength(b: Buffer): number | undefined {
  const type = b[0];
  if (type === undefined) return undefined;
  if (type === 0) return 20; // SetPixelFormat
  if (type === 2) return b.length < 4 ? undefined : 4 + 4 * b.readUInt16BE(2); // SetEncodings
  if (type === 3) return 10; // FramebufferUpdateRequest
  if (type === 4) return 8; // KeyEvent
  if (type === 5) return 6; // PointerEvent
  throw new Error(`fake server: unexpected client message ${type}`);
}

test.describe('VncClient', () => {
  let dir: string;
  let server: FakeVncServer;
  test.beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vnc-client-'));
    server = new FakeVncServer(path.join(dir, 'vnc.sock'));
    await server.listen();
  });
  test.afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('connects, mirrors the screen, and sends keys in call order', async () => {
    const client = await VncClient.connect({ locate: async () => ({ socket: server.socketPath }), log: quiet, connectTimeout: 5000 });
    try {
      expect([client.width, client.height, client.connected]).toEqual([4, 2, true]);
      expect([...client.frame().rgba.subarray(0, 4)]).toEqual([10, 20, 30, 255]);
      expect(client.pointer).toEqual({ x: 2, y: 1 });
      await Promise.all([
        client.sendKeys([
          { keysym: 0x61, down: true },
          { keysym: 0x61, down: false },
        ]),
        client.sendKeys([{ keysym: 0xff0d, down: true }]),
      ]);
      await expect.poll(() => server.keys).toEqual(['down:61', 'up:61', 'down:ff0d']);
    } finally {
      await client.close();
    }
  });

  test('reconnects after the server drops it; a send made while down is delivered once it is back', async () => {
    const client = await VncClient.connect({ locate: async () => ({ socket: server.socketPath }), log: quiet, connectTimeout: 5000, reconnectTimeout: 5000 });
    try {
      const reconnected = new Promise((resolve) => client.once('reconnect', resolve));
      const disconnected = new Promise((resolve) => client.once('disconnect', resolve));
      server.colour = [200, 100, 50];
      server.dropAll();
      await disconnected;
      const sent = client.sendKeys([{ keysym: 0x62, down: true }]);
      expect(await reconnected).toEqual({ socket: server.socketPath });
      await sent;
      await expect.poll(() => server.keys).toEqual(['down:62']);
      expect(server.connections).toBe(2);
      expect([...client.frame().rgba.subarray(0, 4)]).toEqual([200, 100, 50, 255]);
    } finally {
      await client.close();
    }
  });

  test('a drop announced with expectDisconnect() is information, not a warning; once the announcement ends, a drop warns again', async () => {
    const logged: string[] = [];
    const record: Logger = {
      debug() {},
      info: (event) => void logged.push(`info ${event}`),
      warn: (event) => void logged.push(`warn ${event}`),
      error: (event) => void logged.push(`error ${event}`),
      child: () => record,
    };
    const client = await VncClient.connect({ locate: async () => ({ socket: server.socketPath }), log: record, connectTimeout: 5000, reconnectTimeout: 5000 });
    const dropAndReconnect = async () => {
      const reconnected = new Promise((resolve) => client.once('reconnect', resolve));
      server.dropAll();
      await reconnected;
    };
    try {
      logged.length = 0;
      const unexpect = client.expectDisconnect('a snapshot revert restarts QEMU');
      await dropAndReconnect();
      unexpect();
      expect(logged).toEqual(['info disconnected', 'info reconnected']);
      logged.length = 0;
      await dropAndReconnect();
      expect(logged).toEqual(['warn disconnected', 'info reconnected']);
    } finally {
      await client.close();
    }
  });

  test('refresh() gets every pixel again: the picture changed without an update (a snapshot loaded in place)', async () => {
    const client = await VncClient.connect({ locate: async () => ({ socket: server.socketPath }), log: quiet, connectTimeout: 5000 });
    try {
      server.colour = [1, 2, 3];
      // The fake server answers incremental requests with nothing, as QEMU does on a screen nobody draws on.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([...client.frame().rgba.subarray(0, 4)]).toEqual([10, 20, 30, 255]);
      await client.refresh(5000);
      expect([...client.frame().rgba.subarray(0, 4)]).toEqual([1, 2, 3, 255]);
      expect([...client.frame().rgba.subarray(28, 32)]).toEqual([1, 2, 3, 255]);
    } finally {
      await client.close();
    }
  });

  test('close() is idempotent and fails pending waits and later sends', async () => {
    const client = await VncClient.connect({ locate: async () => ({ socket: server.socketPath }), log: quiet, connectTimeout: 5000 });
    const waiting = client.waitForUpdate(client.version, 60_000);
    await Promise.all([client.close(), client.close()]);
    await expect(waiting).rejects.toBeInstanceOf(VncDisconnectedError);
    await expect(client.sendKeys([{ keysym: 0x61, down: true }])).rejects.toBeInstanceOf(VncDisconnectedError);
    expect(client.connected).toBe(false);
  });

  test('no server: VncConnectError after connectTimeout', async () => {
    const started = performance.now();
    const error = await VncClient.connect({ locate: async () => ({ socket: path.join(dir, 'nobody.sock') }), connectTimeout: 500 }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('EVNCCONNECT');
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
