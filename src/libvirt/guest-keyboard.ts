/**
 * The queue of the keyboard the guest takes its keys from now, read through our own QEMU monitor,
 * so that typing never overflows it (src/vnc/key-flow.ts). QEMU sends keys to the virtio keyboard
 * while the guest's driver runs it, and to PS/2 otherwise (an installer, an old guest, the driver
 * unloaded); each has its own count of what it has taken.
 */
import { VirtioKeyboardRing } from './keyboard-ring.js';
import { Ps2KeyboardBytes } from './ps2-keyboard.js';
import type { QemuMonitor } from './qemu-monitor.js';
import { VcpuLoad } from './vcpu-load.js';

/** After the monitor failed (no socket, QEMU restarting), how long to leave it be. */
const RETRY_AFTER_MS = 2_000;

/**
 * PS/2's queue, in bytes: a key event takes one (two for keys with an E0 prefix: arrows, Home,
 * right Ctrl). Its count is in bytes too, and the keyboard counts what it sends the same way.
 */
const PS2_QUEUE_BYTES = 16;

export interface GuestKeyboardState {
  /** Which keyboard, in which QEMU: `taken` is counted anew when this changes. */
  source: string;
  /** What `taken`, `room` and `size` count: key events (virtio), or bytes of PS/2's queue. */
  unit: 'events' | 'ps2-bytes';
  /** Key events (or bytes) taken so far. */
  taken: number;
  /** How many more it can take now; undefined where the keyboard can't tell (PS/2). */
  room?: number;
  /** Its room when the guest has caught up. */
  size: number;
  /** The busiest vCPU's share of the last moment (0–1): near 1, the guest is behind on its work; undefined where the host can't tell. */
  busy?: number;
}

export class GuestKeyboardQueue {
  private readonly virtio: VirtioKeyboardRing;
  private readonly ps2: Ps2KeyboardBytes;
  private readonly load: VcpuLoad;
  private failedAt = -Infinity;
  /** PS/2's first count in this QEMU, until it moves. */
  private ps2Start?: { generation: number; taken: number; moved: boolean };

  constructor(private readonly monitor: QemuMonitor) {
    this.virtio = new VirtioKeyboardRing(monitor);
    this.ps2 = new Ps2KeyboardBytes(monitor);
    this.load = new VcpuLoad(monitor);
  }

  /** Undefined when it can't be told (no count, or QEMU can't be asked just now). */
  async read(): Promise<GuestKeyboardState | undefined> {
    if (performance.now() - this.failedAt < RETRY_AFTER_MS) return undefined;
    try {
      return await this.readNow();
    } catch {
      this.failedAt = performance.now();
      return undefined;
    }
  }

  close(): void {
    this.monitor.close();
  }

  private async readNow(): Promise<GuestKeyboardState | undefined> {
    const state = await this.keyboardNow();
    return state && { ...state, busy: await this.load.busy().catch(() => undefined) };
  }

  private async keyboardNow(): Promise<GuestKeyboardState | undefined> {
    const ring = await this.virtio.read();
    if (ring) return { source: `virtio in QEMU #${this.monitor.generation}`, unit: 'events', ...ring };
    const taken = await this.ps2.read();
    if (taken === undefined || !this.ps2Counts(taken)) return undefined;
    return { source: `PS/2 in QEMU #${this.monitor.generation}`, unit: 'ps2-bytes', taken, size: PS2_QUEUE_BYTES };
  }

  /**
   * Whether PS/2's count is seen to move in this QEMU. Until it does, the guest may be reading the
   * keyboard without interrupts (firmware polls it; Linux does while it probes), and waiting for
   * the count would hold typing until KeyFlow gave up on the guest.
   */
  private ps2Counts(taken: number): boolean {
    const generation = this.monitor.generation;
    if (this.ps2Start?.generation !== generation) this.ps2Start = { generation, taken, moved: false };
    this.ps2Start.moved ||= taken !== this.ps2Start.taken;
    return this.ps2Start.moved;
  }
}
