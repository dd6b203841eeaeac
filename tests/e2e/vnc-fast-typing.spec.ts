import { test, expect } from '../../fixtures/index.js';
import type { Vm } from '../../src/index.js';
import { existsSync } from 'node:fs';
import { backendsOf } from '../../src/index.js';
import { Keyboard } from '../../src/vnc/index.js';
import { FREEZER, freezeVcpus, qemuPid } from './support/host.js';
import { randomText } from './support/vm.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
test.use({ vmImage: 'tiny' });

/** Runs `command` in tiny's tty1 shell and returns what it printed, through the serial port. */
async function shell(vm: Vm, command: string): Promise<string> {
  const from = vm.serial.mark();
  await vm.keyboard.type(`{ ${command}; } > /dev/ttyS0 2>&1; echo SHELL-DONE > /dev/ttyS0\n`, { delay: 0 });
  await vm.waitForSerial(/SHELL-DONE/, { from });
  return vm.serial.text().slice(from).split('SHELL-DONE')[0] ?? '';
}

interface Typed {
  /** What arrived, line by line. */
  lines: string[];
  keysPerSec: number;
  /** When typing `text` began and ended (performance.now()). */
  from: number;
  to: number;
}

/** What to type: text, or one key pressed so many times. */
type Input = string | { key: string; times: number };

/** Types `input` at delay 0 into `cat > /dev/ttyS0` (through `keyboard`, else vm.keyboard); returns the lines that arrived and the rate. */
async function typeFast(vm: Vm, input: Input, keyboard?: Keyboard): Promise<Typed> {
  const from = vm.serial.mark();
  await vm.keyboard.type('cat > /dev/ttyS0\n', { delay: 0 });
  await new Promise((r) => setTimeout(r, 300));
  const t = performance.now();
  const k = keyboard ?? vm.keyboard;
  if (typeof input === 'string') await k.type(input, { delay: 0 });
  else for (let i = 0; i < input.times; i++) await k.press(input.key);
  const to = performance.now();
  const keysPerSec = ((typeof input === 'string' ? input.length : input.times) / (to - t)) * 1000;
  await vm.keyboard.type('\n', { delay: 0 });
  await vm.keyboard.press('Control+D');
  await vm.keyboard.type('echo END-OF-FAST-TYPING > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/END-OF-FAST-TYPING/, { from });
  return { lines: (vm.serial.text().slice(from).split('END-OF-FAST-TYPING')[0] ?? '').split(/\r?\n/), keysPerSec, from: t, to };
}

test('tiny binds the virtio keyboard beside PS/2', async ({ vm }) => {
  const devices = await shell(vm, "grep '^N:' /proc/bus/input/devices");
  expect(devices).toContain('QEMU Virtio Keyboard');
  expect(devices).toContain('AT Translated Set 2 keyboard');
});

test('400 random printable characters at delay 0 arrive exactly, faster than the old ~31 keys/s', async ({ vm }) => {
  const text = randomText(400);
  const { lines, keysPerSec } = await typeFast(vm, text);
  expect(lines).toContain(text);
  // Not a benchmark (that is bench/screen-and-keys.ts): only proof that keys no longer go 10 ms apart.
  expect(keysPerSec).toBeGreaterThan(50);
});

test('without the virtio driver, keys go to PS/2 and 300 random characters at delay 0 still arrive exactly', async ({ vm }) => {
  // QEMU sends keys to the keyboard activated last; unloading the driver hands them back to PS/2.
  expect(await shell(vm, "rmmod virtio_input; grep '^N:' /proc/bus/input/devices")).not.toContain('Virtio Keyboard');
  const text = randomText(300);
  expect((await typeFast(vm, text)).lines).toContain(text);
  expect(await shell(vm, "insmod /lib/modules/virtio_input.ko; grep '^N:' /proc/bus/input/devices")).toContain('Virtio Keyboard');
  const again = randomText(300);
  expect((await typeFast(vm, again)).lines).toContain(again);
});

test('QEMU stalled for 300 ms while keys are typed at delay 0: the keys that piled up all arrive', async ({ vm }) => {
  // A stopped QEMU reads nothing from the VNC socket; once it runs again it reads the pile at once.
  // A host whose writes are throttled stalls QEMU's main loop the same way, only less predictably.
  const text = randomText(600);
  const pid = await qemuPid(vm.name);
  const stall = (async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGCONT');
  })();
  const { lines } = await typeFast(vm, text);
  await stall;
  expect(lines).toContain(text);
});

/**
 * Types 600 random characters at delay 0 (through `keyboard`, else vm.keyboard), or `arrows` presses
 * of the Up arrow, while the guest's vCPU is frozen for 800 ms: QEMU's main loop goes on and
 * fills the keyboard's queue, which the frozen guest doesn't empty. Whether they all arrived.
 */
async function typeWhileFrozen(vm: Vm, keyboard?: Keyboard, arrows?: number): Promise<boolean> {
  const input = arrows ? { key: 'ArrowUp', times: arrows } : randomText(600);
  const freezing = freezeVcpus(vm.name, 800, { after: 1_100 });
  const typed = await typeFast(vm, input, keyboard);
  const frozeAt = await freezing;
  // The stall fell while keys were still being sent, or the test proves nothing.
  expect(frozeAt).toBeGreaterThan(typed.from);
  expect(frozeAt).toBeLessThan(typed.to);
  // An Up arrow reaches cat as ESC [ A.
  return typed.lines.includes(arrows ? '\x1b[A'.repeat(arrows) : (input as string));
}

test("the guest's vCPU frozen for 800 ms while keys are typed at delay 0: none is lost", async ({ vm }) => {
  test.skip(!existsSync(FREEZER), `no cgroup v1 freezer at ${FREEZER} to stop a vCPU thread with`);
  // The fault is real: a keyboard that doesn't read the ring (pacing alone, as before) loses keys.
  expect(await typeWhileFrozen(vm, new Keyboard(backendsOf(vm).vnc))).toBe(false);
  expect(await typeWhileFrozen(vm)).toBe(true);
});

test('through PS/2 (no virtio driver) too: the vCPU frozen for 800 ms while keys are typed at delay 0, none is lost', async ({ vm }) => {
  test.skip(!existsSync(FREEZER), `no cgroup v1 freezer at ${FREEZER} to stop a vCPU thread with`);
  expect(await shell(vm, "rmmod virtio_input; grep '^N:' /proc/bus/input/devices")).not.toContain('Virtio Keyboard');
  // PS/2's queue (16 bytes) tells nobody how full it is; typing counts the keyboard interrupts instead.
  expect(await typeWhileFrozen(vm, new Keyboard(backendsOf(vm).vnc))).toBe(false);
  expect(await typeWhileFrozen(vm)).toBe(true);
  // An arrow key takes two bytes of that queue (an E0 prefix) for each event, and counts so.
  expect(await typeWhileFrozen(vm, new Keyboard(backendsOf(vm).vnc), 250)).toBe(false);
  expect(await typeWhileFrozen(vm, undefined, 250)).toBe(true);
  expect(await shell(vm, "insmod /lib/modules/virtio_input.ko; grep '^N:' /proc/bus/input/devices")).toContain('Virtio Keyboard');
});
