/**
 * VirtioKeyboardRing's reading of QEMU's answers, against a stand-in monitor: the 16-bit ring
 * indexes counted across their wrap and across a QEMU restart, and no answer where the keys
 * don't go through the virtio keyboard. The e2e proof against QEMU is vnc-fast-typing.spec.ts.
 */
import { test, expect } from '@playwright/test';
import { VirtioKeyboardRing } from '../../src/libvirt/keyboard-ring.js';
import type { QemuMonitor } from '../../src/libvirt/qemu-monitor.js';

const KEYBOARD = '/machine/peripheral/input1/virtio-backend';

class StandInMonitor {
  generation = 1;
  avail = 64;
  used = 0;
  driverOk = true;
  hasKeyboard = true;
  down = false;

  async execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.down) throw new Error('QEMU is gone');
    if (command !== 'qom-list') expect(args?.path).toBe(KEYBOARD);
    const answers: Record<string, unknown> = {
      'qom-list': [{ name: 'input0', type: 'child<usb-tablet>' }, ...(this.hasKeyboard ? [{ name: 'input1', type: 'child<virtio-keyboard-pci>' }] : [])],
      'x-query-virtio-status': { status: { statuses: this.driverOk ? ['VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready'] : [] } },
      'x-query-virtio-queue-status': { 'vring-num': 64 },
      'x-query-virtio-queue-element': { avail: { idx: this.avail & 0xffff }, used: { idx: this.used & 0xffff } },
    };
    return answers[command] as T;
  }

  close(): void {}

  /** The device takes `events` key events (two buffers each); the guest hands back `returned` buffers. */
  take(events: number, returned = events * 2): void {
    this.used += events * 2;
    this.avail += returned;
  }
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

test('a monitor that fails is left be for a while, then asked again', async () => {
  const monitor = new StandInMonitor();
  const reader = ring(monitor);
  monitor.down = true;
  expect(await reader.read()).toBeUndefined();
  monitor.down = false;
  expect(await reader.read()).toBeUndefined();
  await new Promise((r) => setTimeout(r, 2_100));
  expect(await reader.read()).toEqual({ taken: 0, room: 32, size: 32 });
});
