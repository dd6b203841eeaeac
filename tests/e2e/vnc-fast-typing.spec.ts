import { test, expect } from '../../fixtures/index.js';
import type { Vm } from '../../src/index.js';
import { existsSync } from 'node:fs';
import { backendsOf } from '../../src/index.js';
import { Keyboard } from '../../src/vnc/index.js';
import { FREEZER, freezeVcpus, qemuPid } from './support/host.js';
import { randomText } from './support/vm.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
test.use({ vmImage: 'tiny' });

/**
 * Runs `command` in tiny's tty1 shell and returns what it printed, through the serial port. Its
 * end marker is put together by printf: a line typed into a `cat > /dev/ttyS0` left running by
 * mistake reaches the serial port too, and must not pass for the shell's answer.
 */
async function shell(vm: Vm, command: string): Promise<string> {
  const from = vm.serial.mark();
  await vm.keyboard.type(`{ ${command}; } > /dev/ttyS0 2>&1; printf 'SHELL-%s\\n' DONE > /dev/ttyS0\n`, { delay: 0 });
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

/** The keys `input` presses, once each, as text for vm.keyboard.type or a key name. */
function keysOf(input: Input): Input {
  return typeof input === 'string' ? [...new Set(input)].join('') : { key: input.key, times: 1 };
}

/**
 * Types `input` at delay 0 into `cat > /dev/ttyS0` (through `lossy.keyboard`, else vm.keyboard);
 * returns the lines that arrived and the rate. A keyboard that may lose keys (pacing alone) leaves
 * the guest's queue full: vm.keyboard, which can't tell another sender's keys from room, waits
 * for `lossy.settled` (the stall's end) and a moment. It may lose a release too: the guest then
 * holds that key down and ignores its next press. So each key it pressed is pressed once more
 * through vm.keyboard, on a line of its own.
 */
async function typeFast(vm: Vm, input: Input, lossy?: { keyboard: Keyboard; settled: Promise<unknown> }): Promise<Typed> {
  const from = vm.serial.mark();
  await vm.keyboard.type('cat > /dev/ttyS0\n', { delay: 0 });
  await new Promise((r) => setTimeout(r, 300));
  const t = performance.now();
  await typeInput(lossy?.keyboard ?? vm.keyboard, input);
  const to = performance.now();
  const keysPerSec = ((typeof input === 'string' ? input.length : input.times) / (to - t)) * 1000;
  if (lossy) {
    await lossy.settled;
    await new Promise((r) => setTimeout(r, 500));
    await vm.keyboard.type('\n', { delay: 0 });
    await typeInput(vm.keyboard, keysOf(input));
  }
  await vm.keyboard.type('\n', { delay: 0 });
  await vm.keyboard.press('Control+D');
  // The marker is put together by printf, as in shell().
  await vm.keyboard.type("printf 'END-OF-%s\\n' FAST-TYPING > /dev/ttyS0\n", { delay: 0 });
  await vm.waitForSerial(/END-OF-FAST-TYPING/, { from });
  return { lines: (vm.serial.text().slice(from).split('END-OF-FAST-TYPING')[0] ?? '').split(/\r?\n/), keysPerSec, from: t, to };
}

async function typeInput(keyboard: Pick<Keyboard, 'type' | 'press'>, input: Input): Promise<void> {
  if (typeof input === 'string') await keyboard.type(input, { delay: 0 });
  else for (let i = 0; i < input.times; i++) await keyboard.press(input.key);
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
 * fills the keyboard's queue, which the frozen guest doesn't empty. What was sent, and the line that arrived.
 */
async function typeWhileFrozen(vm: Vm, keyboard?: Keyboard, arrows?: number): Promise<{ sent: string; arrived: string }> {
  const input = arrows ? { key: 'ArrowUp', times: arrows } : randomText(600);
  const freezing = freezeVcpus(vm.name, 800, { after: 1_100 });
  const typed = await typeFast(vm, input, keyboard && { keyboard, settled: freezing });
  const frozeAt = await freezing;
  // The stall fell while keys were still being sent, or the test proves nothing.
  expect(frozeAt).toBeGreaterThan(typed.from);
  expect(frozeAt).toBeLessThan(typed.to);
  // An Up arrow reaches cat as ESC [ A. The first line is what was typed (a second one: the keys pressed again).
  return { sent: typeof input === 'string' ? input : '\x1b[A'.repeat(input.times), arrived: typed.lines.find((l) => l !== '') ?? '' };
}

/** Pacing alone, as before the keyboard read the guest's queue: it sends keys however full the queue is. */
const pacingAlone = (vm: Vm) => new Keyboard(backendsOf(vm).vnc);

test("the guest's vCPU frozen for 800 ms while keys are typed at delay 0: none is lost", async ({ vm }) => {
  test.skip(!existsSync(FREEZER), `no cgroup v1 freezer at ${FREEZER} to stop a vCPU thread with`);
  const typed = await typeWhileFrozen(vm);
  expect(typed.arrived).toBe(typed.sent);
  // The fault is real: a keyboard that doesn't read the queue loses keys.
  const paced = await typeWhileFrozen(vm, pacingAlone(vm));
  expect(paced.arrived).not.toBe(paced.sent);
});

test('through PS/2 (no virtio driver) too: the vCPU frozen for 800 ms while keys are typed at delay 0, none is lost', async ({ vm }) => {
  test.skip(!existsSync(FREEZER), `no cgroup v1 freezer at ${FREEZER} to stop a vCPU thread with`);
  expect(await shell(vm, "rmmod virtio_input; grep '^N:' /proc/bus/input/devices")).not.toContain('Virtio Keyboard');
  // PS/2's queue (16 bytes) tells nobody how full it is; typing counts the keyboard interrupts instead.
  // An arrow key takes two bytes of that queue (an E0 prefix) for each event, and counts so.
  for (const arrows of [undefined, 250]) {
    const typed = await typeWhileFrozen(vm, undefined, arrows);
    expect(typed.arrived).toBe(typed.sent);
    const paced = await typeWhileFrozen(vm, pacingAlone(vm), arrows);
    expect(paced.arrived).not.toBe(paced.sent);
  }
  expect(await shell(vm, "insmod /lib/modules/virtio_input.ko; grep '^N:' /proc/bus/input/devices")).toContain('Virtio Keyboard');
});
