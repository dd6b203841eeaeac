/**
 * A VNC client that keeps an RGBA mirror of the guest screen up to date, sends input in
 * strict order, and survives QEMU restarts (snapshot revert) by reconnecting on its own.
 * The parts: FramebufferMirror (the pixels), VncConnection (connect, reconnect, ordered
 * sends) and RfbSession (one socket); this class joins them and tracks the pointer.
 */
import { EventEmitter } from 'node:events';
import { TimeoutError } from '../errors.js';
import type { CursorImage, Frame, FrameSource } from '../frames.js';
import type { Point, Size } from '../geometry.js';
import { createLogger, type Logger } from '../log.js';
import { defaultTimeout } from '../timeouts.js';
import { VncConnection } from './connection.js';
import { FramebufferMirror } from './framebuffer-mirror.js';
import { keyEventMessages, pointerEventMessage, updateRequestMessage, type KeyEvent } from './protocol.js';
import type { Rfb2Rect } from './rfb2.js';
import type { RfbSession, VncEndpoint } from './session.js';
import { Waiters } from './waiters.js';

export interface VncClientOptions {
  /** Where the server is now: a unix socket or host and port. Called again before every reconnect attempt (a TCP port may change). */
  locate: () => Promise<VncEndpoint>;
  /** First connection, including retries while QEMU is not listening yet. Default: defaultTimeout('vncConnect'). */
  connectTimeout?: number;
  /** How long to keep trying after the connection drops. Default: defaultTimeout('vncConnect'). */
  reconnectTimeout?: number;
  log?: Logger;
  /** Shown in logs and errors, e.g. the VM name. */
  name?: string;
}

/**
 * Events: 'update' (version), 'resize' ({ width, height }), 'cursor' (CursorImage),
 * 'disconnect' ({ reason }), 'reconnect' (the endpoint).
 */
export class VncClient extends EventEmitter implements FrameSource {
  private readonly mirror: FramebufferMirror;
  private readonly connection: VncConnection;
  /** Re-checked on every frame and connection change: waitForUpdate and sends waiting for a reconnect. */
  private readonly waiters = new Waiters();
  private _pointer: Point = { x: 0, y: 0 };
  private readonly log: Logger;
  private readonly label: string;

  private constructor(opts: VncClientOptions) {
    super();
    this.label = opts.name ?? 'vnc';
    this.log = opts.log ?? createLogger(opts.name ? `vnc:${opts.name}` : 'vnc');
    this.mirror = new FramebufferMirror({
      update: (version) => this.safeEmit('update', version),
      resize: (size) => this.onResize(size),
      cursor: (cursor) => this.safeEmit('cursor', cursor),
    });
    const timeouts = {
      connectTimeout: opts.connectTimeout ?? defaultTimeout('vncConnect'),
      reconnectTimeout: opts.reconnectTimeout ?? defaultTimeout('vncConnect'),
    };
    this.connection = new VncConnection(
      { locate: opts.locate, ...timeouts, log: this.log, label: this.label },
      {
        adopt: (session, first) => this.adopt(session, first),
        ready: () => this.mirror.primed,
        lost: () => this.mirror.lost(),
        disconnected: (reason) => this.emit('disconnect', { reason }),
        reconnected: (endpoint) => this.emit('reconnect', endpoint),
      },
      this.waiters,
    );
  }

  /** Connects (retrying until connectTimeout) and resolves once the first full framebuffer is in the mirror. */
  static async connect(opts: VncClientOptions): Promise<VncClient> {
    const client = new VncClient(opts);
    await client.connection.connect();
    return client;
  }

  get width(): number {
    return this.mirror.width;
  }
  get height(): number {
    return this.mirror.height;
  }
  get version(): number {
    return this.mirror.version;
  }
  /** Last position sent; the screen centre until the first pointer event (VNC can't tell where it is). */
  get pointer(): Point {
    return this._pointer;
  }
  get cursor(): CursorImage | undefined {
    return this.mirror.cursor;
  }
  get connected(): boolean {
    return this.connection.connected;
  }
  /**
   * Says a drop is coming (`why`: a snapshot revert or a watchdog restarting QEMU), until the
   * returned function is called: it is logged as information, not warned about. The client
   * reconnects as after any drop.
   */
  expectDisconnect(why: string): () => void {
    return this.connection.expectDrop(why);
  }

  /** The server we are (or were last) connected to. */
  get endpoint(): VncEndpoint | undefined {
    return this.connection.endpoint;
  }

  /** The live RGBA mirror, not a copy: it changes under you and is replaced on resize. */
  frame(): Frame {
    return this.mirror.frame;
  }

  /** Key events in one write, so that the server reads them together (a keystroke's press and release). */
  sendKeys(events: readonly KeyEvent[]): Promise<void> {
    return this.connection.send(keyEventMessages(events));
  }

  sendPointer(x: number, y: number, buttonMask: number): Promise<void> {
    const px = clamp(Math.round(x), 0, Math.max(0, this.width - 1));
    const py = clamp(Math.round(y), 0, Math.max(0, this.height - 1));
    this._pointer = { x: px, y: py };
    return this.connection.send(pointerEventMessage(px, py, buttonMask));
  }

  /** Resolves with the new version once the mirror is newer than `sinceVersion`; rejects when `signal` aborts. */
  waitForUpdate(sinceVersion: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return this.waiters.wait(
      () => (this.version > sinceVersion ? { value: this.version } : this.connection.closedError()),
      timeoutMs,
      () =>
        new TimeoutError(`a screen update of ${this.label} (after version ${sinceVersion})`, timeoutMs, {
          hint: 'the guest screen did not change; QEMU only sends updates when something is drawn',
        }),
      signal,
    );
  }

  /**
   * Asks the server for every pixel again and resolves once they are all in the mirror. After
   * QEMU loads a snapshot in place, the mirror otherwise keeps showing the old screen until the
   * guest draws (QEMU answers the pending incremental request only for changes); QEMU merges
   * this request with that one, so one request stays outstanding.
   */
  async refresh(timeoutMs: number): Promise<void> {
    const before = this.mirror.refreshes;
    this.mirror.startRefresh();
    await this.connection.send(updateRequestMessage(false, this.width, this.height));
    await this.waiters.wait(
      () => (this.mirror.refreshes > before ? { value: undefined } : this.connection.closedError()),
      timeoutMs,
      () => new TimeoutError(`a full screen update of ${this.label}`, timeoutMs, { hint: 'is the VM still running? see `virsh list`' }),
    );
  }

  /** Idempotent. Stops reconnecting, closes the socket, fails pending waits; no timers are left. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** Mirrors a new session; its rects are ignored once another session replaced it. */
  private adopt(session: RfbSession, first: boolean): void {
    const current = () => this.connection.isCurrent(session);
    this.mirror.restart({ width: session.width, height: session.height });
    // VNC never says where the pointer is; X starts it in the middle, so assume that
    if (first) this._pointer = { x: session.width >> 1, y: session.height >> 1 };
    session.on('rect', (rect: Rfb2Rect) => {
      if (current() && rect.data) this.mirror.paint({ ...rect, data: rect.data }, session.format);
    });
    session.on('cursor', (rect: Rfb2Rect) => {
      if (current()) this.mirror.setCursor(rect, session.format);
    });
    session.on('resize', (width: number, height: number) => this.mirror.serverResized({ width, height }));
    session.on('updateEnd', () => {
      if (!current()) return;
      // keep exactly one request outstanding: the mirror follows the screen continuously
      session.requestUpdate(this.mirror.endUpdate());
      this.waiters.notify();
    });
  }

  private onResize(size: Size): void {
    this._pointer = { x: Math.min(this._pointer.x, Math.max(0, size.width - 1)), y: Math.min(this._pointer.y, Math.max(0, size.height - 1)) };
    this.log.debug('resize', { width: size.width, height: size.height });
    this.safeEmit('resize', size);
  }

  /** Mirror events fire inside rfb2's parser: a throwing listener must not kill the session. */
  private safeEmit(event: string, payload: unknown): void {
    try {
      this.emit(event, payload);
    } catch (err) {
      this.log.error('listener-threw', { event, error: err });
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
