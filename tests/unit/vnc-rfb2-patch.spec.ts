/**
 * Pins what src/vnc relies on inside rfb2: the parser hooks rfb2-patch.ts shadows, the
 * encoding numbers we ask for, the pixel-format fields RfbSession reads, and the rect shapes
 * of Raw, DesktopSize and Cursor. Runs the real rfb2 from node_modules against bytes a VNC
 * server would send, so an rfb2 upgrade that breaks any of it fails here.
 */
import { test, expect } from '@playwright/test';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Encoding, Security, rfb2, type Rfb2Client, type Rfb2Rect, type Rfb2Stream } from '../../src/vnc/rfb2.js';
import { hookUpdateEnd } from '../../src/vnc/rfb2-patch.js';

const require = createRequire(import.meta.url);

/** Stands in for the socket: the test pushes server bytes, and sees what the client wrote. */
class FakeServer extends EventEmitter implements Rfb2Stream {
  readonly written: Buffer[] = [];
  write(data: Buffer): boolean {
    this.written.push(Buffer.from(data));
    return true;
  }
  end(): void {}
  /** Sends `bytes` one byte per chunk: rfb2 must reassemble messages split anywhere. */
  send(bytes: Buffer): void {
    for (const b of bytes) this.emit('data', Buffer.from([b]));
  }
}

const u8 = (...v: number[]) => Buffer.from(v);
const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const s32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const rectHeader = (x: number, y: number, w: number, h: number, encoding: number) => Buffer.concat([u16(x), u16(y), u16(w), u16(h), s32(encoding)]);

/** RFB 3.8 handshake with security None and a 4x2, 32 bpp little-endian true-colour screen (QEMU's format). */
function handshake(server: FakeServer): void {
  server.send(Buffer.from('RFB 003.008\n', 'ascii'));
  server.send(u8(1, Security.none));
  server.send(u32(0)); // SecurityResult: OK
  const pixelFormat = Buffer.concat([u8(32, 24, 0, 1), u16(255), u16(255), u16(255), u8(16, 8, 0), u8(0, 0, 0)]);
  server.send(Buffer.concat([u16(4), u16(2), pixelFormat, u32(4), Buffer.from('test')]));
}

function connect(): { rfb: Rfb2Client; server: FakeServer; events: string[]; rects: Rfb2Rect[] } {
  const server = new FakeServer();
  const rfb = rfb2.createConnection({ stream: server, security: [Security.none], encodings: [Encoding.raw, Encoding.desktopSize, Encoding.cursor] });
  const events: string[] = [];
  const rects: Rfb2Rect[] = [];
  rfb.on('connect', () => events.push('connect'));
  rfb.on('rect', (r: Rfb2Rect) => (rects.push(r), events.push(`rect:${r.encoding}`)));
  rfb.on('resize', (r: Rfb2Rect) => events.push(`resize:${r.width}x${r.height}`));
  rfb.on('bell', () => events.push('bell'));
  hookUpdateEnd(rfb, () => events.push('updateEnd'));
  handshake(server);
  return { rfb, server, events, rects };
}

test('the parser internals rfb2-patch shadows exist on the prototype and the encodings keep their numbers', () => {
  const client = require('rfb2/rfbclient.js') as { encodings: Record<string, number> };
  const proto = Object.getPrototypeOf(rfb2.createConnection({ stream: new FakeServer(), security: [Security.none], encodings: [] })) as Rfb2Client;
  expect(typeof proto.readFbUpdate).toBe('function');
  expect(typeof proto.expectNewMessage).toBe('function');
  expect(client.encodings).toMatchObject({
    raw: Encoding.raw,
    copyRect: Encoding.copyRect,
    pseudoDesktopSize: Encoding.desktopSize,
    pseudoCursor: Encoding.cursor,
  });
});

test('handshake: connect fires with the pixel-format fields RfbSession reads, after SetEncodings and a full update request', () => {
  const { rfb, server, events } = connect();
  expect(events).toEqual(['connect']);
  expect({ width: rfb.width, height: rfb.height, bpp: rfb.bpp, depth: rfb.depth }).toEqual({ width: 4, height: 2, bpp: 32, depth: 24 });
  expect({ big: rfb.isBigEndian, trueColor: rfb.isTrueColor }).toEqual({ big: 0, trueColor: 1 });
  expect([rfb.redMax, rfb.greenMax, rfb.blueMax, rfb.redShift, rfb.greenShift, rfb.blueShift]).toEqual([255, 255, 255, 16, 8, 0]);
  const sent = Buffer.concat(server.written);
  const setEncodings = Buffer.concat([u8(2, 0), u16(3), s32(Encoding.raw), s32(Encoding.desktopSize), s32(Encoding.cursor)]);
  const fullRequest = Buffer.concat([u8(3, 0), u16(0), u16(0), u16(4), u16(2)]);
  expect(sent.indexOf(setEncodings)).toBeGreaterThan(0);
  expect(sent.indexOf(fullRequest)).toBeGreaterThan(sent.indexOf(setEncodings));
});

test('one FramebufferUpdate of Raw, DesktopSize and Cursor rects ends with exactly one updateEnd, after the last rect', () => {
  const { rfb, server, events, rects } = connect();
  events.length = 0;
  const raw = Buffer.from([1, 2, 3, 0, 4, 5, 6, 0]); // two pixels, b g r x
  const cursorPixels = Buffer.alloc(2 * 2 * 4, 0xaa);
  const cursorMask = u8(0b1000_0000, 0b0100_0000);
  server.send(
    Buffer.concat([
      u8(0, 0),
      u16(3),
      rectHeader(1, 1, 2, 1, Encoding.raw),
      raw,
      rectHeader(0, 0, 8, 4, Encoding.desktopSize),
      rectHeader(1, 0, 2, 2, Encoding.cursor),
      cursorPixels,
      cursorMask,
    ]),
  );
  expect(events).toEqual([`rect:${Encoding.raw}`, 'resize:8x4', `rect:${Encoding.cursor}`, 'updateEnd']);
  expect({ width: rfb.width, height: rfb.height }).toEqual({ width: 8, height: 4 });
  const [rawRect, cursorRect] = rects;
  expect(rawRect).toMatchObject({ x: 1, y: 1, width: 2, height: 1, encoding: Encoding.raw });
  expect(rawRect?.data).toEqual(raw);
  // Cursor: x/y carry the hotspot; data is the pixels, mask the 1-bit rows padded to bytes
  expect(cursorRect).toMatchObject({ x: 1, y: 0, width: 2, height: 2, encoding: Encoding.cursor });
  expect(cursorRect?.data).toEqual(cursorPixels);
  expect(cursorRect?.mask).toEqual(cursorMask);
});

test('other server messages do not end an update; an empty update still does', () => {
  const { server, events } = connect();
  events.length = 0;
  server.send(u8(2)); // Bell
  expect(events).toEqual(['bell']);
  server.send(Buffer.concat([u8(0, 0), u16(0)]));
  expect(events).toEqual(['bell', 'updateEnd']);
  server.send(Buffer.concat([u8(0, 0), u16(1), rectHeader(0, 0, 1, 1, Encoding.raw), u8(9, 9, 9, 0), u8(2)]));
  expect(events).toEqual(['bell', 'updateEnd', `rect:${Encoding.raw}`, 'updateEnd', 'bell']);
});

test('a handshake rfb2 cannot complete throws inside the data event, where GuardedStream catches it', () => {
  const server = new FakeServer();
  rfb2.createConnection({ stream: server, security: [Security.none], encodings: [] });
  server.send(Buffer.from('RFB 003.008\n', 'ascii'));
  expect(() => server.send(u8(1, Security.vncAuth))).toThrow(/security/);
});
