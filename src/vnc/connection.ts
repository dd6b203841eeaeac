/**
 * The lifecycle of the link to one VNC server: connecting with retries until the first full
 * frame, reconnecting on its own after the connection drops (QEMU restarting for a snapshot
 * revert, a watchdog restarting the VM), and sending client messages in strict call order,
 * even across a reconnect. What the sessions carry (pixels) is the SessionHandler's business.
 */
import type { Logger } from '../log.js';
import { Deadline, sleep } from '../timeouts.js';
import { VncConnectError, VncDisconnectedError } from './errors.js';
import { RfbSession, endpointLabel, type VncEndpoint } from './session.js';
import { Waiters, withTimeout } from './waiters.js';

export interface ConnectionOptions {
  /** Where the server is now; called again before every attempt (a TCP port may change). */
  locate: () => Promise<VncEndpoint>;
  /** First connection, including retries while QEMU is not listening yet. */
  connectTimeout: number;
  /** How long an attempt to come back after a drop may take, and how long a send waits for it. */
  reconnectTimeout: number;
  log: Logger;
  /** Shown in logs and errors, e.g. the VM name. */
  label: string;
}

/** What the owner does with each session. */
export interface SessionHandler {
  /** A new session is open: start consuming its events. `first`: no session came before it. */
  adopt(session: RfbSession, first: boolean): void;
  /** The adopted session has delivered a whole framebuffer: it is usable. */
  ready(): boolean;
  /** The adopted session died. */
  lost(): void;
  /** A usable connection dropped; reconnecting starts. */
  disconnected(reason: string): void;
  /** Usable again after a drop. */
  reconnected(endpoint: VncEndpoint): void;
}

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

export class VncConnection {
  private session?: RfbSession;
  private closed = false;
  /** Sessions that became usable so far. */
  private connects = 0;
  private closing?: Promise<void>;
  private reconnecting?: Promise<void>;
  private readonly abort = new AbortController();
  /** The last send: each send starts after it, so messages reach the socket in call order. */
  private sendChain: Promise<unknown> = Promise.resolve();
  /** Why a drop is expected now (a revert restarts QEMU), one entry per caller: such a drop is no warning. */
  private readonly expectedDrops: { why: string }[] = [];

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly handler: SessionHandler,
    /** Re-checked by the owner whenever something changes (a frame, a close). */
    private readonly waiters: Waiters,
  ) {}

  get connected(): boolean {
    return !this.closed && this.handler.ready() && !!this.session?.alive;
  }

  /**
   * Until the returned function is called, a drop is expected (`why`: a revert restarting QEMU)
   * and logged as information, not as a warning. Reconnecting goes on as for any drop.
   */
  expectDrop(why: string): () => void {
    const entry = { why };
    this.expectedDrops.push(entry);
    return () => {
      const i = this.expectedDrops.indexOf(entry);
      if (i >= 0) this.expectedDrops.splice(i, 1);
    };
  }

  /** `session` is the one in use (not one that a reconnect has replaced). */
  isCurrent(session: RfbSession): boolean {
    return this.session === session;
  }

  /** The server we are (or were last) connected to. */
  get endpoint(): VncEndpoint | undefined {
    return this.session?.endpoint;
  }

  /** Connects (retrying until connectTimeout) and resolves once the first full framebuffer arrived. */
  async connect(): Promise<void> {
    try {
      await this.connectLoop(this.opts.connectTimeout);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Sends `message` after every earlier one; while the connection is down, waits up to reconnectTimeout for it. */
  send(message: Buffer): Promise<void> {
    const run = this.sendChain.then(() => this.deliver(message));
    this.sendChain = run.catch(() => {});
    return run;
  }

  /** The error a wait fails with once the client is closed; undefined while it is open. */
  closedError(): Error | undefined {
    return this.closed ? this.closedFailure() : undefined;
  }

  /** Idempotent. Stops reconnecting, closes the socket, fails pending waits; no timers are left. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.abort.abort(new VncDisconnectedError(`VNC client ${this.opts.label} was closed`));
    this.session?.destroy();
    this.waiters.rejectAll(this.closedFailure());
    await this.reconnecting?.catch(() => {});
    await this.sendChain.catch(() => {});
  }

  private closedFailure(): VncDisconnectedError {
    return new VncDisconnectedError(`VNC client ${this.opts.label} is closed`, {
      hint: 'the VM was stopped or its VNC client closed before this action',
    });
  }

  // ---- sending -------------------------------------------------------------------------

  private async deliver(message: Buffer): Promise<void> {
    const deadline = new Deadline(this.opts.reconnectTimeout, `VNC connection to ${this.opts.label} coming back`);
    for (;;) {
      const closed = this.closedError();
      if (closed) throw closed;
      const session = this.session;
      if (session?.alive && this.handler.ready()) {
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

  private waitConnected(deadline: Deadline): Promise<void> {
    return this.waiters.wait(
      () => (this.connected ? { value: undefined } : this.closedError()),
      deadline.remaining(),
      () =>
        new VncDisconnectedError(`VNC connection to ${this.opts.label} is down and did not come back within ${this.opts.reconnectTimeout} ms`, {
          hint: 'the VM may have stopped, or a snapshot revert took longer than reconnectTimeout',
        }),
    );
  }

  // ---- connecting ----------------------------------------------------------------------

  /** Retries locate() + handshake with backoff until a usable session or the deadline. */
  private async connectLoop(timeoutMs: number): Promise<void> {
    const deadline = new Deadline(timeoutMs, `VNC connection to ${this.opts.label}`);
    let backoff = FIRST_BACKOFF_MS;
    let lastError: unknown;
    let attempts = 0;
    while (!this.closed && !deadline.expired()) {
      attempts++;
      try {
        await this.establish(deadline);
        return;
      } catch (err) {
        lastError = err;
        this.opts.log.debug('connect-attempt-failed', { attempt: attempts, error: err });
        this.session?.destroy();
        const wait = Math.min(backoff, deadline.remaining());
        if (wait > 0) await sleep(wait, this.abort.signal).catch(() => {});
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    if (this.closed) throw this.closedFailure();
    const why = lastError instanceof Error ? lastError.message : String(lastError ?? 'no attempt finished');
    throw new VncConnectError(`could not connect to the VNC server of ${this.opts.label} within ${timeoutMs} ms (${attempts} attempts): ${why}`, {
      cause: lastError,
      hint: 'check that the VM is running and its VNC display listens on the address locate() returns',
    });
  }

  private async establish(deadline: Deadline): Promise<void> {
    const signal = this.abort.signal;
    const endpoint = await withTimeout(this.opts.locate(), deadline.remaining(), () => new VncConnectError('locate() did not answer in time'), signal);
    const session = await RfbSession.open(endpoint, { timeoutMs: deadline.remaining(), log: this.opts.log, signal });
    if (this.closed) {
      session.destroy();
      throw this.closedFailure();
    }
    this.session = session;
    this.handler.adopt(session, this.connects === 0);
    session.on('close', (err?: Error) => this.onClose(session, err));
    await this.waiters.wait(
      () => {
        if (this.session !== session || !session.alive) return new VncConnectError('connection closed before the first frame arrived');
        return this.handler.ready() ? { value: undefined } : this.closedError();
      },
      deadline.remaining(),
      () => new VncConnectError(`no full frame from ${endpointLabel(endpoint)} in time`),
    );
    this.opts.log.info(this.connects++ === 0 ? 'connected' : 'reconnected', {
      endpoint: endpointLabel(endpoint),
      width: session.width,
      height: session.height,
    });
  }

  private onClose(session: RfbSession, err?: Error): void {
    if (session !== this.session) return;
    const wasReady = this.handler.ready();
    this.handler.lost();
    this.waiters.notify();
    if (this.closed || !wasReady) return; // connectLoop handles failures before the first frame
    const reason = err?.message ?? 'connection closed';
    const expected = this.expectedDrops.at(-1)?.why;
    if (expected) this.opts.log.info('disconnected', { reason, expected });
    else this.opts.log.warn('disconnected', { reason, reconnectTimeout: this.opts.reconnectTimeout });
    this.handler.disconnected(reason);
    this.reconnecting = this.reconnect().finally(() => (this.reconnecting = undefined));
  }

  /**
   * Keeps trying until close(): a VM may stay down for a while (a watchdog restarting it, an
   * operator's stop). Sends meanwhile fail after reconnectTimeout; the client stays usable.
   */
  private async reconnect(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        await this.connectLoop(this.opts.reconnectTimeout);
        if (this.session) this.handler.reconnected({ ...this.session.endpoint });
        return;
      } catch (err) {
        if (this.closed) return;
        if (attempt++ === 0) this.opts.log.warn('still disconnected: retrying until the client is closed', { error: (err as Error).message });
        this.waiters.notify();
        await sleep(MAX_BACKOFF_MS, this.abort.signal).catch(() => {});
      }
    }
  }
}
