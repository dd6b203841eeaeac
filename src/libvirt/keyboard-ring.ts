/**
 * How full the guest's virtio keyboard is, read through our own QEMU monitor. The guest hands
 * the device empty buffers (64); QEMU fills one per input event and drops the events that find
 * none, silently. A guest whose vCPU isn't scheduled (TCG on a busy host) hands back none, so a
 * sender that keeps within the room it reads here loses no key however long the stall.
 */
import type { QemuMonitor } from './qemu-monitor.js';

/** QEMU's virtio keyboard fills two buffers per key event: the key, then a sync (measured: 20 key events, 40 buffers). */
const BUFFERS_PER_KEY_EVENT = 2;

/** How often to ask again whether the guest's driver runs the device (QEMU sends keys to PS/2 when it doesn't). */
const DRIVER_CHECK_MS = 1_000;

/** The keyboard's queue, in key events. */
export interface KeyboardRingState {
  /** Key events the device has taken from QEMU so far, counted from when this reader began. */
  taken: number;
  /** Key events it can take now without dropping any. */
  room: number;
  /** Its room when the guest has caught up. */
  size: number;
}

interface QueueElement {
  avail: { idx: number };
  used: { idx: number };
}

export class VirtioKeyboardRing {
  /** The device's QOM path; null when the VM has no virtio keyboard. */
  private device?: string | null;
  private driverOk = false;
  private driverCheckedAt = -Infinity;
  private generation = -1;
  private lastUsed = 0;
  private takenBuffers = 0;
  /** Buffers in the ring (64 in QEMU 7.2), read once. */
  private size?: number;

  constructor(private readonly monitor: QemuMonitor) {}

  /** Undefined when the keys don't go through the virtio keyboard now; rejects when QEMU can't be asked. */
  async read(): Promise<KeyboardRingState | undefined> {
    this.device ??= await this.findDevice();
    if (this.device === null) return undefined;
    if (performance.now() - this.driverCheckedAt >= DRIVER_CHECK_MS) await this.checkDriver();
    if (!this.driverOk) return undefined;
    let ring: QueueElement;
    try {
      ring = await this.monitor.execute<QueueElement>('x-query-virtio-queue-element', { path: this.device, queue: 0 });
    } catch (e) {
      // The driver has gone since the last check (unloaded, a reboot): QEMU has reset the ring, and
      // sends keys to PS/2 from now on. Tell that at once, not after DRIVER_CHECK_MS of keys counted nowhere.
      await this.checkDriver();
      if (!this.driverOk) return undefined;
      throw e;
    }
    const size = await this.ringSize();
    this.count(ring.used.idx);
    const free = (ring.avail.idx - ring.used.idx) & 0xffff;
    return {
      taken: Math.floor(this.takenBuffers / BUFFERS_PER_KEY_EVENT),
      room: Math.floor(Math.min(free, size) / BUFFERS_PER_KEY_EVENT),
      size: Math.floor(size / BUFFERS_PER_KEY_EVENT),
    };
  }

  /** Whether the guest's driver runs the device now (QEMU sends keys to it only then). */
  private async checkDriver(): Promise<void> {
    const status = await this.monitor.execute<{ status: { statuses: string[] } }>('x-query-virtio-status', { path: this.device });
    this.driverOk = status.status.statuses.some((s) => s.startsWith('VIRTIO_CONFIG_S_DRIVER_OK'));
    this.driverCheckedAt = performance.now();
  }

  /** The ring's indexes are 16-bit and start over with each QEMU (a revert restarts it): count what was used since the last look. */
  private count(used: number): void {
    if (this.generation !== this.monitor.generation) {
      this.generation = this.monitor.generation;
      this.lastUsed = used;
      this.driverCheckedAt = -Infinity;
    }
    this.takenBuffers += (used - this.lastUsed) & 0xffff;
    this.lastUsed = used;
  }

  private async ringSize(): Promise<number> {
    if (this.size === undefined) {
      const status = await this.monitor.execute<{ 'vring-num': number }>('x-query-virtio-queue-status', { path: this.device, queue: 0 });
      this.size = status['vring-num'];
    }
    return this.size;
  }

  private async findDevice(): Promise<string | null> {
    const children = await this.monitor.execute<{ name: string; type: string }[]>('qom-list', { path: '/machine/peripheral' });
    const keyboard = children.find((c) => c.type === 'child<virtio-keyboard-pci>');
    return keyboard ? `/machine/peripheral/${keyboard.name}/virtio-backend` : null;
  }
}
