/**
 * A VNC client that keeps an RGBA mirror of the guest screen up to date, sends input in
 * strict order, and survives QEMU restarts (snapshot revert) by reconnecting on its own.
 */
import { EventEmitter } from 'node:events';
import { TimeoutError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { CursorImage, Frame, FrameSource } from '../frames.js';
import { defaultTimeout, sleep } from '../timeouts.js';
import { VncConnectError, VncDisconnectedError } from './errors.js';
import { blitRect, cursorToRgba } from './pixels.js';
import { keyEventMessage, pointerEventMessage } from './protocol.js';
import type { Rfb2Rect } from './rfb2.js';
import { RfbSession, endpointLabel, type VncEndpoint } from './session.js';
import { Waiters, withTimeout } from './waiters.js';

export { endpointLabel, type VncEndpoint } from './session.js';

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

const MAX_BACKOFF_MS = 2000;

export class VncClient extends EventEmitter implements FrameSource {
  private mirror: Frame = { width: 0, height: 0, rgba: Buffer.alloc(0) };
  private _version = 0;
  private _pointer = { x: 0, y: 0 };
  private _cursor?: CursorImage;
  private session?: RfbSession;
  /** The session has delivered a whole framebuffer: the mirror is trustworthy. */
  private primed = false;
  private coverage = 0;
  private damaged = false;
  private needFull = false;
  private closed = false;
  private connects = 0;
  private closing?: Promise<void>;
  private reconnecting?: Promise<void>;
  private readonly abort = new AbortController();
  private readonly waiters = new Waiters();
  private sendChain: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly label: string;
  private readonly connectTimeout: number;
  private readonly reconnectTimeout: number;

  private constructor(private readonly opts: VncClientOptions) {
    super();
    this.label = opts.name ?? 'vnc';
    this.log = opts.log ?? createLogger(opts.name ? `vnc:${opts.name}` : 'vnc');
    this.connectTimeout = opts.connectTimeout ?? defaultTimeout('vncConnect');
    this.reconnectTimeout = opts.reconnectTimeout ?? defaultTimeout('vncConnect');
  }

  /** Connects (retrying until connectTimeout) and resolves once the first full framebuffer is in the mirror. */
  static async connect(opts: VncClientOptions): Promise<VncClient> {
    const client = new VncClient(opts);
    try {
      await client.connectLoop(client.connectTimeout);
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  get width(): number {
    return this.mirror.width;
  }
  get height(): number {
    return this.mirror.height;
  }
  get version(): number {
    return this._version;
  }
  /** Last position sent; the screen centre until the first pointer event (VNC can't tell where it is). */
  get pointer(): { x: number; y: number } {
    return this._pointer;
  }
  get cursor(): CursorImage | undefined {
    return this._cursor;
  }
  get connected(): boolean {
    return !this.closed && this.primed && !!this.session?.alive;
  }
  /** The server we are (or were last) connected to. */
  get endpoint(): VncEndpoint | undefined {
    return this.session?.endpoint;
  }

  /** The live RGBA mirror, not a copy: it changes under you and is replaced on resize. */
  frame(): Frame {
    return this.mirror;
  }

  sendKey(keysym: number, down: boolean): Promise<void> {
    return this.send(keyEventMessage(keysym, down));
  }

  sendPointer(x: number, y: number, buttonMask: number): Promise<void> {
    const px = clamp(Math.round(x), 0, Math.max(0, this.width - 1));
    const py = clamp(Math.round(y), 0, Math.max(0, this.height - 1));
    this._pointer = { x: px, y: py };
    return this.send(pointerEventMessage(px, py, buttonMask));
  }

  /** Resolves with the new version once the mirror is newer than `sinceVersion`. */
  waitForUpdate(sinceVersion: number, timeoutMs: number): Promise<number> {
    return this.waiters.wait(
      () => (this._version > sinceVersion ? { value: this._version } : this.deadError()),
      timeoutMs,
      () =>
        new TimeoutError(`a screen update of ${this.label} (after version ${sinceVersion})`, timeoutMs, {
          hint: 'the guest screen did not change; QEMU only sends updates when something is drawn',
        }),
    );
  }

  /** Idempotent. Stops reconnecting, closes the socket, fails pending waits; no timers are left. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.abort.abort(new VncDisconnectedError(`VNC client ${this.label} was closed`));
    this.session?.destroy();
    this.waiters.rejectAll(this.closedError());
    await this.reconnecting?.catch(() => {});
    await this.sendChain.catch(() => {});
  }

  // ---- input -------------------------------------------------------------------------

  /** Sends are chained so they reach the socket in call order, even across a reconnect. */
  private send(message: Buffer): Promise<void> {
    const run = this.sendChain.then(() => this.deliver(message));
    this.sendChain = run.catch(() => {});
    return run;
  }

  private async deliver(message: Buffer): Promise<void> {
    const deadline = Date.now() + this.reconnectTimeout;
    for (;;) {
      const dead = this.deadError();
      if (dead) throw dead;
      const session = this.session;
      if (session?.alive && this.primed) {
        try {
          return await session.write(message);
        } catch (err) {
          if (session.alive && !this.closed) throw err;
          // the connection died under this write: resend once we are back
        }
      }
      await this.waitConnected(deadline);
    }
  }

  private waitConnected(deadline: number): Promise<void> {
    const timeoutMs = deadline - Date.now();
    return this.waiters.wait(
      () => (this.connected ? { value: undefined } : this.deadError()),
      timeoutMs,
      () =>
        new VncDisconnectedError(`VNC connection to ${this.label} is down and did not come back within ${this.reconnectTimeout} ms`, {
          hint: 'the VM may have stopped, or a snapshot revert took longer than reconnectTimeout',
        }),
    );
  }

  private deadError(): Error | undefined {
    return this.closed ? this.closedError() : undefined;
  }

  private closedError(): Error {
    return new VncDisconnectedError(`VNC client ${this.label} is closed`, { hint: 'the VM was stopped or its VNC client closed before this action' });
  }

  // ---- connecting ----------------------------------------------------------------------

  /** Retries locate() + connect with backoff until a primed session or the deadline. */
  private async connectLoop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let backoff = 100;
    let lastError: unknown;
    let attempts = 0;
    while (!this.closed && Date.now() < deadline) {
      attempts++;
      try {
        await this.establish(deadline);
        return;
      } catch (err) {
        lastError = err;
        this.log.debug('connect-attempt-failed', { attempt: attempts, error: err });
        this.session?.destroy();
        const wait = Math.min(backoff, deadline - Date.now());
        if (wait > 0) await sleep(wait, this.abort.signal).catch(() => {});
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    if (this.closed) throw this.closedError();
    const why = lastError instanceof Error ? lastError.message : String(lastError ?? 'no attempt finished');
    throw new VncConnectError(`could not connect to the VNC server of ${this.label} within ${timeoutMs} ms (${attempts} attempts): ${why}`, {
      cause: lastError,
      hint: 'check that the VM is running and its VNC display listens on the address locate() returns',
    });
  }

  private async establish(deadline: number): Promise<void> {
    const signal = this.abort.signal;
    const endpoint = await withTimeout(this.opts.locate(), deadline - Date.now(), () => new VncConnectError('locate() did not answer in time'), signal);
    const session = await RfbSession.open(endpoint, { timeoutMs: deadline - Date.now(), log: this.log, signal });
    if (this.closed) {
      session.destroy();
      throw this.closedError();
    }
    this.adopt(session);
    await this.waiters.wait(
      () => {
        if (this.session !== session || !session.alive) return new VncConnectError('connection closed before the first frame arrived');
        return this.primed ? { value: undefined } : this.deadError();
      },
      deadline - Date.now(),
      () => new VncConnectError(`no full frame from ${endpointLabel(endpoint)} in time`),
    );
    this.log.info(this.connects++ === 0 ? 'connected' : 'reconnected', { endpoint: endpointLabel(endpoint), width: this.width, height: this.height });
  }

  private adopt(session: RfbSession): void {
    this.session = session;
    this.primed = false;
    this.coverage = 0;
    this.needFull = false;
    this.resizeMirror(session.width, session.height);
    // VNC never says where the pointer is; X starts it in the middle, so assume that
    if (this.connects === 0) this._pointer = { x: session.width >> 1, y: session.height >> 1 };
    session.on('rect', (rect: Rfb2Rect) => this.onRect(session, rect));
    session.on('cursor', (rect: Rfb2Rect) => this.onCursor(session, rect));
    session.on('resize', (w: number, h: number) => this.onResize(w, h));
    session.on('updateEnd', () => this.onUpdateEnd(session));
    session.on('close', (err?: Error) => this.onClose(session, err));
  }

  private onClose(session: RfbSession, err?: Error): void {
    if (session !== this.session) return;
    const wasReady = this.primed;
    this.primed = false;
    this.waiters.notify();
    if (this.closed || !wasReady) return; // connectLoop handles failures before the first frame
    this.log.warn('disconnected', { reason: err?.message ?? 'connection closed', reconnectTimeout: this.reconnectTimeout });
    this.emit('disconnect', { reason: err?.message ?? 'connection closed' });
    this.reconnecting = this.reconnect().finally(() => (this.reconnecting = undefined));
  }

  /**
   * Keeps trying until close(): a VM may stay down for a while (a watchdog restarting it, an
   * operator's stop). Actions sent meanwhile fail after reconnectTimeout; the client stays usable.
   */
  private async reconnect(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        await this.connectLoop(this.reconnectTimeout);
        // The endpoint itself: { socket } or { host, port }.
        this.emit('reconnect', { ...this.session!.endpoint });
        return;
      } catch (err) {
        if (this.closed) return;
        if (attempt++ === 0) this.log.warn('still disconnected: retrying until the client is closed', { error: (err as Error).message });
        this.waiters.notify();
        await sleep(MAX_BACKOFF_MS, this.abort.signal).catch(() => {});
      }
    }
  }

  // ---- the mirror ----------------------------------------------------------------------

  private onRect(session: RfbSession, rect: Rfb2Rect): void {
    if (session !== this.session || !rect.data) return;
    blitRect(this.mirror, { ...rect, data: rect.data }, session.format);
    this.coverage += rect.width * rect.height;
    this.damaged = true;
  }

  private onCursor(session: RfbSession, rect: Rfb2Rect): void {
    if (session !== this.session) return;
    if (rect.width === 0 || rect.height === 0 || !rect.data || !rect.mask) {
      // an empty cursor means "hidden": a transparent pixel is simpler for consumers than undefined
      this._cursor = { width: 1, height: 1, hotX: 0, hotY: 0, rgba: Buffer.alloc(4) };
    } else {
      const rgba = cursorToRgba(rect.width, rect.height, rect.data, rect.mask, session.format);
      this._cursor = { width: rect.width, height: rect.height, hotX: rect.x, hotY: rect.y, rgba };
    }
    this.safeEmit('cursor', this._cursor);
  }

  private onResize(width: number, height: number): void {
    this.resizeMirror(width, height);
    this.needFull = true;
    this.coverage = 0;
  }

  private onUpdateEnd(session: RfbSession): void {
    if (session !== this.session) return;
    if (this.damaged) {
      this.damaged = false;
      this.bump();
    }
    if (!this.primed && this.coverage >= this.width * this.height) this.primed = true;
    // keep exactly one request outstanding: the mirror follows the screen continuously
    session.requestUpdate(!this.needFull);
    if (this.needFull) this.coverage = 0;
    this.needFull = false;
    this.waiters.notify();
  }

  private resizeMirror(width: number, height: number): void {
    if (width === this.mirror.width && height === this.mirror.height) return;
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255; // opaque black until pixels arrive
    this.mirror = { width, height, rgba };
    this._pointer = { x: Math.min(this._pointer.x, Math.max(0, width - 1)), y: Math.min(this._pointer.y, Math.max(0, height - 1)) };
    this.log.debug('resize', { width, height });
    this.safeEmit('resize', { width, height });
    this.bump();
  }

  private bump(): void {
    this._version++;
    this.safeEmit('update', this._version);
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
