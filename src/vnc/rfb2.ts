/**
 * Typed face of the parts of rfb2 0.2.2 we use. Its own .d.ts lacks most of them
 * (pixel format fields, rect shapes, internal parser hooks), so we load the CommonJS
 * module untyped and describe it here.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

/** One rectangle of a FramebufferUpdate as rfb2 hands it to 'rect' listeners. */
export interface Rfb2Rect {
  x: number;
  y: number;
  width: number;
  height: number;
  encoding: number;
  /** Raw and Cursor: pixels in the server's format. */
  data?: Buffer;
  /** Cursor: the 1-bit transparency mask. */
  mask?: Buffer;
}

/** What a stream passed to rfb2 must offer: it only reads 'data' and writes/ends. */
export interface Rfb2Stream extends EventEmitter {
  write(data: Buffer): unknown;
  end(): unknown;
}

export interface Rfb2Client extends EventEmitter {
  width: number;
  height: number;
  bpp: number;
  depth: number;
  isBigEndian: number;
  isTrueColor: number;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
  /** Parser internals rfb2-patch.ts wraps to know where a FramebufferUpdate message ends. */
  readFbUpdate(): void;
  expectNewMessage(): void;
}

interface Rfb2ConnectParams {
  stream: Rfb2Stream;
  security: number[];
  encodings: number[];
}

interface Rfb2Module {
  createConnection(params: Rfb2ConnectParams): Rfb2Client;
}

export const rfb2 = createRequire(import.meta.url)('rfb2') as Rfb2Module;

/** RFB numbers we need (RFC 6143). */
export const Encoding = { raw: 0, copyRect: 1, desktopSize: -223, cursor: -239 } as const;
export const Security = { none: 1, vncAuth: 2 } as const;
