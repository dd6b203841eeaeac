import { createConnection, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { sleep } from '../timeouts.js';
import { parseGuestLine, type GuestMessage } from './guest-messages.js';

const MAX_BUFFER = 4096;

/**
 * The host end of the guest's message port (ttyS1 on a unix socket that QEMU listens on).
 * Reconnects for as long as it is open: QEMU restarts on a snapshot-revert and is gone while
 * the VM is shut off.
 */
export class SerialChannel {
  private socket?: Socket;
  private closed = false;
  private loop: Promise<void>;
  private readonly abort = new AbortController();
  connected = false;
  lines = 0;

  constructor(
    private readonly path: string,
    private readonly onMessage: (message: GuestMessage) => void,
    private readonly log: Logger,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let backoff = 50;
    while (!this.closed) {
      const ended = await this.connectOnce().catch(() => false);
      if (this.closed) return;
      backoff = ended ? 50 : Math.min(backoff * 2, 1000);
      await sleep(backoff, this.abort.signal).catch(() => undefined);
    }
  }

  /** true when a connection was made and has now ended. */
  private connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection(this.path);
      this.socket = socket;
      let opened = false;
      let buffer = '';
      socket.setEncoding('latin1');
      socket.on('connect', () => {
        opened = true;
        this.connected = true;
        this.log.debug('message port connected', { path: this.path });
      });
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.search(/[\r\n]/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          this.handle(line);
        }
        if (buffer.length > MAX_BUFFER) buffer = '';
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.connected = false;
        resolve(opened);
      });
    });
  }

  private handle(line: string): void {
    const message = parseGuestLine(line);
    if (!message) return;
    this.lines++;
    try {
      this.onMessage(message);
    } catch (e) {
      this.log.error('guest message handler threw', { error: (e as Error).message });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.socket?.destroy();
    await this.loop;
  }
}
