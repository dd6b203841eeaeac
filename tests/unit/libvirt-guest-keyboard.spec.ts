/**
 * How the guest keyboard's queue is read from QEMU's answers, against a stand-in monitor: the
 * virtio ring's 16-bit indexes counted across their wrap and a QEMU restart; PS/2's count of
 * keyboard interrupts where the virtio driver doesn't run; a monitor that fails. The e2e proof
 * against QEMU is vnc-fast-typing.spec.ts.
 */
import { test, expect } from '@playwright/test';
import { VirtioKeyboardRing } from '../../src/libvirt/keyboard-ring.js';
import { GuestKeyboardQueue, type GuestKeyboardState } from '../../src/libvirt/guest-keyboard.js';
import { irqCount } from '../../src/libvirt/ps2-keyboard.js';
import type { QemuMonitor } from '../../src/libvirt/qemu-monitor.js';

const KEYBOARD = '/machine/peripheral/input1/virtio-backend';

class StandInMonitor {
  generation = 1;
  avail = 64;
  used = 0;
  driverOk = true;
  hasKeyboard = true;
  down = false;
  /** Rising edges of IRQ 1 (one per byte the guest took from PS/2); none listed while 0. */
  keyboardIrqs = 0;

  async execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.down) throw new Error('QEMU is gone');
    if (command === 'human-monitor-command') return this.infoIrq(args) as T;
    // The vCPU threads (VcpuLoad): this test's own thread stands in for one.
    if (command === 'query-cpus-fast') return [{ 'thread-id': process.pid }] as T;
    if (command !== 'qom-list') expect(args?.path).toBe(KEYBOARD);
    // As QEMU answers once the driver has reset the device: its ring is gone.
    if (command === 'x-query-virtio-queue-element' && !this.driverOk) throw new Error('QEMU refused: Region caches not initialized');
    const answers: Record<string, unknown> = {
      'qom-list': [{ name: 'input0', type: 'child<usb-tablet>' }, ...(this.hasKeyboard ? [{ name: 'input1', type: 'child<virtio-keyboard-pci>' }] : [])],
      'x-query-virtio-status': { status: { statuses: this.driverOk ? ['VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready'] : [] } },
      'x-query-virtio-queue-status': { 'vring-num': 64 },
      'x-query-virtio-queue-element': { avail: { idx: this.avail & 0xffff }, used: { idx: this.used & 0xffff } },
    };
    return answers[command] as T;
  }

  close(): void {}

  private infoIrq(args?: Record<string, unknown>): string {
    expect(args).toEqual({ 'command-line': 'info irq' });
    const line = this.keyboardIrqs ? ` 1: ${this.keyboardIrqs}\r\n` : '';
    return `IRQ statistics for ioapic:\r\n 0: 1\r\n${line} 4: 12\r\nIRQ statistics for isa-i8259:\r\n 0: 1\r\n`;
  }

  /** The device takes `events` key events (two buffers each); the guest hands back `returned` buffers. */
  take(events: number, returned = events * 2): void {
    this.used += events * 2;
    this.avail += returned;
  }
}

/**
 * What the queue reads, without the vCPU load: that comes from this process's own thread over the
 * time the reads took (30 ms on a busy host), and has its own tests (libvirt-vcpu-load.spec.ts).
 */
async function keyboardState(queue: GuestKeyboardQueue): Promise<Omit<GuestKeyboardState, 'busy'> | undefined> {
  const state = await queue.read();
  if (!state) return undefined;
  const { busy: _busy, ...keyboard } = state;
  return keyboard;
}

function ring(monitor: StandInMonitor): VirtioKeyboardRing {
  return new VirtioKeyboardRing(monitor as unknown as QemuMonitor);
}

test('room and taken come from the ring, in key events, and taken keeps counting across the 16-bit wrap', async () => {
  const monitor = new StandInMonitor();
  monitor.used = monitor.avail = 65_530;
  monitor.avail += 64;
  const reader = ring(monitor);
  expect(await reader.read()).toEqual({ taken: 0, room: 32, size: 32 });
  monitor.take(10, 0);
  expect(await reader.read()).toEqual({ taken: 10, room: 22, size: 32 });
  monitor.take(0, 20);
  monitor.take(30);
  expect(await reader.read()).toEqual({ taken: 40, room: 32, size: 32 });
});

test('a QEMU restart (its ring starts over) neither adds nor loses taken events', async () => {
  const monitor = new StandInMonitor();
  const reader = ring(monitor);
  monitor.take(5);
  expect((await reader.read())?.taken).toBe(0);
  monitor.take(5);
  expect((await reader.read())?.taken).toBe(5);
  monitor.generation = 2;
  monitor.used = 0;
  monitor.avail = 64;
  expect((await reader.read())?.taken).toBe(5);
  monitor.take(3);
  expect((await reader.read())?.taken).toBe(8);
});

test('nothing to read where keys go elsewhere: no virtio keyboard, or its driver not running (keys go to PS/2)', async () => {
  const without = new StandInMonitor();
  without.hasKeyboard = false;
  expect(await ring(without).read()).toBeUndefined();
  const unbound = new StandInMonitor();
  unbound.driverOk = false;
  expect(await ring(unbound).read()).toBeUndefined();
});

test("the guest keyboard is the virtio one while its driver runs, with its ring's room", async () => {
  const monitor = new StandInMonitor();
  const queue = new GuestKeyboardQueue(monitor as unknown as QemuMonitor);
  expect(await keyboardState(queue)).toEqual({ source: 'virtio in QEMU #1', unit: 'events', taken: 0, room: 32, size: 32 });
  monitor.take(3, 0);
  monitor.keyboardIrqs = 50;
  expect(await keyboardState(queue)).toEqual({ source: 'virtio in QEMU #1', unit: 'events', taken: 3, room: 29, size: 32 });
});

test('without the virtio driver it is PS/2: what it took is counted in keyboard interrupts (bytes), once the count is seen to move', async () => {
  const monitor = new StandInMonitor();
  monitor.driverOk = false;
  const queue = new GuestKeyboardQueue(monitor as unknown as QemuMonitor);
  // A count that hasn't moved may be a guest reading the keyboard without interrupts (firmware).
  expect(await keyboardState(queue)).toBeUndefined();
  monitor.keyboardIrqs = 2;
  expect(await keyboardState(queue)).toEqual({ source: 'PS/2 in QEMU #1', unit: 'ps2-bytes', taken: 2, size: 16 });
  monitor.keyboardIrqs = 40;
  expect(await keyboardState(queue)).toEqual({ source: 'PS/2 in QEMU #1', unit: 'ps2-bytes', taken: 40, size: 16 });
  // A new QEMU (a revert): a new count, trusted again once it moves.
  monitor.generation = 2;
  expect(await keyboardState(queue)).toBeUndefined();
  monitor.keyboardIrqs = 41;
  expect(await keyboardState(queue)).toEqual({ source: 'PS/2 in QEMU #2', unit: 'ps2-bytes', taken: 41, size: 16 });
});

test("the virtio driver unloaded while typing: PS/2 is counted from the next read, not after the driver check's interval", async () => {
  const monitor = new StandInMonitor();
  const queue = new GuestKeyboardQueue(monitor as unknown as QemuMonitor);
  for (let i = 0; i < 2; i++) expect((await keyboardState(queue))?.source).toBe('virtio in QEMU #1');
  monitor.driverOk = false;
  monitor.keyboardIrqs = 3;
  // Not a failed monitor (left be for a while): the keys go to PS/2 now, whose count is trusted once it moves.
  expect(await keyboardState(queue)).toBeUndefined();
  monitor.keyboardIrqs = 5;
  expect(await keyboardState(queue)).toEqual({ source: 'PS/2 in QEMU #1', unit: 'ps2-bytes', taken: 5, size: 16 });
});

test("IRQ counts are read from the IOAPIC's block, else the 8259's; a line not listed has not fired", () => {
  const both = 'IRQ statistics for ioapic:\r\n 0: 1\r\n 1: 384\r\n 11: 7\r\nIRQ statistics for isa-i8259:\r\n 0: 1\r\n 1: 3\r\n';
  expect(irqCount(both, 1)).toBe(384);
  expect(irqCount(both, 11)).toBe(7);
  expect(irqCount(both, 12)).toBe(0);
  expect(irqCount('IRQ statistics for isa-i8259:\n 1: 3\n', 1)).toBe(3);
  expect(irqCount('IRQ statistics for kvm-ioapic:\n 1: 9\n', 1)).toBe(9);
  expect(irqCount('irq statistics not available\r\n', 1)).toBeUndefined();
});

test('a monitor that fails is left be for a while, then asked again', async () => {
  const monitor = new StandInMonitor();
  const queue = new GuestKeyboardQueue(monitor as unknown as QemuMonitor);
  monitor.down = true;
  expect(await keyboardState(queue)).toBeUndefined();
  monitor.down = false;
  expect(await keyboardState(queue)).toBeUndefined();
  await new Promise((r) => setTimeout(r, 2_100));
  expect(await keyboardState(queue)).toEqual({ source: 'virtio in QEMU #1', unit: 'events', taken: 0, room: 32, size: 32 });
});
