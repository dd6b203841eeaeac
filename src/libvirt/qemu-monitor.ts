/**
 * A QMP connection of our own to QEMU, beside libvirt's: QEMU listens on a unix socket named on
 * its command line (domain-xml.ts). It is for questions asked many times a second (the virtio
 * keyboard's ring, keyboard-ring.ts), where `virsh qemu-monitor-command` would start a process
 * each time. It connects on the first command, and again after QEMU restarts (a snapshot revert).
 */
import { createConnection, type Socket } from 'node:net';
import { VmError } from './errors.js';

/** A command QEMU's main loop doesn't answer within this is failed; the caller decides what that means. */
const COMMAND_TIMEOUT_MS = 5_000;

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface QmpReply {
  id?: number;
  return?: unknown;
  error?: { class: string; desc: string };
  QMP?: unknown;
}

export class QemuMonitor {
  private connection?: Promise<Socket>;
  /** The connected socket, once QEMU has greeted us. */
  private current?: Socket;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  /** Counts connections made: a new one means a new QEMU, whose devices start over. */
  private connections = 0;

  constructor(readonly path: string) {}

  /** Which QEMU answered the last command: changes when QEMU was restarted in between. */
  get generation(): number {
    return this.connections;
  }

  /** Runs one QMP command and returns its `return`; a QMP error, a lost connection or no answer rejects. */
  async execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    const socket = await (this.connection ??= this.connect());
    return (await this.send(socket, command, args)) as T;
  }

  /** Ends the connection; later commands fail. */
  close(): void {
    this.closed = true;
    this.current?.destroy();
    this.current = undefined;
    this.connection = undefined;
    this.failAll(new VmError('EQMP', 'the QEMU monitor connection was closed'));
  }

  private async connect(): Promise<Socket> {
    if (this.closed) throw new VmError('EQMP', 'the QEMU monitor connection was closed');
    const socket = createConnection(this.path);
    let buffered = '';
    const greeting = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before its greeting')));
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let end: number;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end).trim();
          buffered = buffered.slice(end + 1);
          if (line) this.receive(JSON.parse(line) as QmpReply, resolve);
        }
      });
    });
    socket.on('close', () => this.lost(socket));
    try {
      await greeting;
      socket.on('error', () => undefined);
      await this.send(socket, 'qmp_capabilities');
    } catch (e) {
      socket.destroy();
      this.connection = undefined;
      throw new VmError('EQMP', `QEMU's monitor at ${this.path} did not answer: ${(e as Error).message}`, { cause: e });
    }
    if (this.closed) {
      socket.destroy();
      throw new VmError('EQMP', 'the QEMU monitor connection was closed');
    }
    this.connections++;
    this.current = socket;
    return socket;
  }

  private send(socket: Socket, command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(id, new VmError('EQMP', `QEMU did not answer ${command} within ${COMMAND_TIMEOUT_MS} ms`)),
        COMMAND_TIMEOUT_MS,
      );
      this.waiting.set(id, { resolve, reject, timer });
      socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  /** A reply to a command, the greeting, or an event (events are not ours to handle: ignored). */
  private receive(reply: QmpReply, greeted: () => void): void {
    if (reply.QMP !== undefined) return greeted();
    if (reply.id === undefined) return;
    if (reply.error) this.settle(reply.id, new VmError('EQMP', `QEMU refused: ${reply.error.desc}`));
    else this.settle(reply.id, undefined, reply.return);
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    if (error) w.reject(error);
    else w.resolve(value);
  }

  /** QEMU went away (stopped, or restarted by a revert): the next command connects again. */
  private lost(socket: Socket): void {
    if (this.current === socket) {
      this.current = undefined;
      this.connection = undefined;
    }
    this.failAll(new VmError('EQMP', 'QEMU closed its monitor connection'));
  }

  private failAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, error);
  }
}
