/**
 * One connection to a VNC server (a unix socket or TCP), driven by rfb2. It knows nothing about the mirror
 * or reconnecting: it reports rectangles and the end of each FramebufferUpdate, and
 * reports its own death exactly once. VncClient owns the rest.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../log.js';
import { timer } from '../timeouts.js';
import { VncConnectError, VncDisconnectedError } from './errors.js';
import { assertSupportedFormat, type PixelFormat } from './pixels.js';
import { updateRequestMessage } from './protocol.js';
import { Encoding, Security, rfb2, type Rfb2Client, type Rfb2Rect, type Rfb2Stream } from './rfb2.js';
import { hookUpdateEnd } from './rfb2-patch.js';

/**
 * Where a VNC server listens: a unix socket (demotool's VMs: only their owner can connect) or
 * TCP (any local user can connect; demotool uses it only when DEMOTOOL_VNC_TCP=1 asks for it).
 */
export type VncEndpoint = { socket: string } | { host: string; port: number };

/** 'unix:/path' or 'host:port', for logs and errors. */
export function endpointLabel(endpoint: VncEndpoint): string {
  return 'socket' in endpoint ? `unix:${endpoint.socket}` : `${endpoint.host}:${endpoint.port}`;
}

/**
 * Only what rfb2 decodes correctly: its Hextile is broken and anything it does not know
 * stalls its parser; CopyRect gives no pixels.
 */
const ENCODINGS = [Encoding.raw, Encoding.desktopSize, Encoding.cursor];

/**
 * The stream rfb2 reads from. Forwarding socket data inside a try/catch turns a throw in
 * rfb2's parser (e.g. "Server requires VNC security") into a closed session, not a crash.
 */
class GuardedStream extends EventEmitter implements Rfb2Stream {
  constructor(
    private readonly socket: net.Socket,
    fault: (err: unknown) => void,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => {
      try {
        this.emit('data', chunk);
      } catch (err) {
        fault(err);
      }
    });
  }
  write(data: Buffer): boolean {
    return this.socket.write(data);
  }
  end(): void {
    this.socket.end();
  }
}

/**
 * Events: 'rect' (raw Rfb2Rect), 'cursor' (Rfb2Rect), 'resize' (width, height),
 * 'updateEnd', 'close' (Error | undefined). 'close' fires once.
 */
export class RfbSession extends EventEmitter {
  private rfb!: Rfb2Client;
  private dead = false;
  format!: PixelFormat;

  private constructor(
    readonly endpoint: VncEndpoint,
    private readonly socket: net.Socket,
  ) {
    super();
  }

  get width(): number {
    return this.rfb.width;
  }
  get height(): number {
    return this.rfb.height;
  }
  get alive(): boolean {
    return !this.dead;
  }

  /**
   * Connect (unix socket or TCP) and RFB handshake. Resolves once rfb2 has sent SetEncodings and the first
   * (non-incremental) update request; pixels follow as events.
   */
  static open(endpoint: VncEndpoint, opts: { timeoutMs: number; log: Logger; signal?: AbortSignal }): Promise<RfbSession> {
    const socket = 'socket' in endpoint ? net.createConnection({ path: endpoint.socket }) : net.createConnection({ host: endpoint.host, port: endpoint.port });
    if (!('socket' in endpoint)) socket.setNoDelay(true); // key and pointer events are tiny: don't let Nagle hold them
    const session = new RfbSession({ ...endpoint }, socket);
    return new Promise<RfbSession>((resolve, reject) => {
      const where = endpointLabel(endpoint);
      const fail = (err: unknown) => {
        clearTimeout(armed);
        opts.signal?.removeEventListener('abort', onAbort);
        session.destroy(err instanceof Error ? err : new Error(String(err)));
        reject(err instanceof VncConnectError ? err : new VncConnectError(`VNC handshake with ${where} failed: ${describe(err)}`, { cause: err }));
      };
      const armed = timer(
        () => fail(new VncConnectError(`VNC server at ${where} did not complete the handshake within ${opts.timeoutMs} ms`)),
        Math.max(1, opts.timeoutMs),
      );
      const onAbort = () => fail(opts.signal?.reason ?? new Error('aborted'));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      session.once('close', (err?: Error) => fail(err ?? new Error('connection closed during handshake')));
      socket.once('connect', () => {
        try {
          session.attach(() => {
            clearTimeout(armed);
            opts.signal?.removeEventListener('abort', onAbort);
            session.removeAllListeners('close');
            opts.log.debug('handshake', { where, width: session.width, height: session.height, ...session.format });
            resolve(session);
          });
        } catch (err) {
          fail(err);
        }
      });
      socket.on('error', (err) => session.destroy(err));
      socket.on('close', () => session.destroy());
    });
  }

  private attach(ready: () => void): void {
    const stream = new GuardedStream(this.socket, (err) => this.destroy(asError(err)));
    const rfb = rfb2.createConnection({ stream, security: [Security.none], encodings: ENCODINGS });
    this.rfb = rfb;
    rfb.on('error', (err: unknown) => this.destroy(asError(err)));
    rfb.on('rect', (rect: Rfb2Rect) => {
      if (rect.encoding === Encoding.raw) this.emit('rect', rect);
      else if (rect.encoding === Encoding.cursor) this.emit('cursor', rect);
    });
    rfb.on('resize', (rect: Rfb2Rect) => this.emit('resize', rect.width, rect.height));
    hookUpdateEnd(rfb, () => this.emit('updateEnd'));
    rfb.once('connect', () => {
      this.format = formatOf(rfb);
      assertSupportedFormat(this.format);
      ready();
    });
  }

  /** Resolves once the bytes are handed to the kernel, in order with every other write. */
  write(data: Buffer): Promise<void> {
    if (this.dead) return Promise.reject(new VncDisconnectedError('VNC connection is closed'));
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(new VncDisconnectedError(`VNC write failed: ${err.message}`, { cause: err })) : resolve()));
    });
  }

  requestUpdate(incremental: boolean): void {
    if (this.dead) return;
    this.socket.write(updateRequestMessage(incremental, this.rfb.width, this.rfb.height));
  }

  destroy(err?: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.emit('close', err);
  }
}

function formatOf(rfb: Rfb2Client): PixelFormat {
  return {
    bitsPerPixel: rfb.bpp,
    depth: rfb.depth,
    bigEndian: !!rfb.isBigEndian,
    trueColor: !!rfb.isTrueColor,
    redMax: rfb.redMax,
    greenMax: rfb.greenMax,
    blueMax: rfb.blueMax,
    redShift: rfb.redShift,
    greenShift: rfb.greenShift,
    blueShift: rfb.blueShift,
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
