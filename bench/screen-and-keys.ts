import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import sharp from 'sharp';
import { backendsOf, type Vm } from '../src/index.js';
import { Keyboard, type Screen } from '../src/vnc/index.js';
import { FREEZER, freezeVcpus, qemuPid } from '../tests/e2e/support/host.js';
import { cpuSeconds, fmtMs, median, table, timeIt } from './stats.js';

/** A row of a bench table. */
type Row = (string | number)[];

/** The value below which `share` (0..1) of the values lie (nearest rank). */
function percentile(values: number[], share: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(share * s.length) - 1)] ?? NaN;
}

/** What vm.screenshot() did before (issue 13: 6.7 ms): copy the mirror, then sharp's PNG at compression level 3. */
async function sharpPng(screen: Screen): Promise<Buffer> {
  const { width, height, rgba } = screen.capture();
  return sharp(rgba, { raw: { width, height, channels: 4 } })
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/**
 * vm.screenshot() (a PNG from the mirror) and the bare mirror copy (what matching and OCR read)
 * against `virsh screenshot`, same VM, same still screen.
 */
export async function benchScreenshot(vm: Vm, runs = Number(process.env.BENCH_SCREENSHOT_RUNS ?? 100)): Promise<void> {
  const screen = backendsOf(vm).screen;
  const file = `/tmp/demotool-bench-${process.pid}.ppm`;
  let bytes = 0;
  const methods = {
    png: async () => (bytes = (await vm.screenshot()).length),
    direct: () => screen.screenshot(),
    copy: async () => screen.capture(),
    sharp: () => sharpPng(screen),
    virsh: () => execa('virsh', ['-c', backendsOf(vm).domain.virsh.uri, 'screenshot', vm.name, file]),
  };
  const times = Object.fromEntries(Object.keys(methods).map((m) => [m, [] as number[]])) as Record<keyof typeof methods, number[]>;
  // In turns of ten, so load drifting hits all alike but one method's garbage mostly stays in its own turn;
  // each round starts with another method, and each turn with an untimed call, so none always pays for the switch.
  const order = Object.entries(methods);
  for (let done = 0, round = 0; done < runs; done += 10, round++) {
    for (const [name, take] of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
      await take();
      for (let i = done; i < Math.min(runs, done + 10); i++) times[name as keyof typeof methods].push(await timeIt(take));
    }
  }
  await rm(file, { force: true });
  const virsh = median(times.virsh);
  const row = (method: string, t: number[]) => [method, fmtMs(median(t)), fmtMs(percentile(t, 0.95)), (median(t) / virsh).toFixed(3)];
  const { width, height } = screen.capture();
  table(
    `Screenshot latency, ${vm.image.name} ${width}x${height} (${runs} runs each)`,
    ['method', 'median', 'p95', 'median / virsh median'],
    [
      row(`vm.screenshot() (PNG from the mirror, ${Math.round(bytes / 1024)} KiB)`, times.png),
      row('screen.screenshot() (the same PNG, without the step vm.* wraps it in)', times.direct),
      row('screen.capture() (RGBA copy of the mirror, no PNG)', times.copy),
      row('virsh screenshot (PPM file)', times.virsh),
      row('copy + sharp PNG, compression level 3 (the encoder before)', times.sharp),
    ],
  );
  const ours = median(times.png);
  console.log(`vm.screenshot(): median ${fmtMs(ours)} (target: at most 5 ms), ${((ours / virsh) * 100).toFixed(1)}% of virsh screenshot's time`);
}

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const OPENQA_KEYS_PER_SEC = 30;
/** Issue 13's figure before the fast path: QEMU's VNC key-delay-ms=10 plus a 10 ms gap, PS/2. */
const BEFORE_KEYS_PER_SEC = 31;

function randomText(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += PRINTABLE[Math.floor(Math.random() * PRINTABLE.length)];
  return s;
}

/** Runs a shell command in the guest as root: through the agent where there is one, else typed into tiny's tty1 shell. */
async function guestShell(vm: Vm, command: string): Promise<string> {
  if (vm.image.guestAgent) return (await vm.exec(command, { user: 'root' })).stdout;
  const marker = `BENCH-SH-${Date.now()}`;
  const from = vm.serial.mark();
  await vm.keyboard.type(`{ ${command}; } > /dev/ttyS0 2>&1; echo ${marker} > /dev/ttyS0\n`, { delay: 20 });
  await vm.waitForSerial(new RegExp(marker), { from, timeout: 60_000 });
  return vm.serial.text().slice(from).split(marker)[0] ?? '';
}

/** Which keyboard QEMU sends keys to: the virtio one while its guest driver is bound (QEMU activates it then), else PS/2. */
async function useKeyboard(vm: Vm, device: 'virtio' | 'ps2'): Promise<boolean> {
  const load = vm.image.guestAgent ? 'modprobe virtio_input' : 'insmod /lib/modules/virtio_input.ko';
  await guestShell(vm, device === 'ps2' ? 'rmmod virtio_input' : load);
  const names = await guestShell(vm, "grep '^N:' /proc/bus/input/devices");
  return names.includes('Virtio Keyboard') === (device === 'virtio');
}

/** On the desktop, keys go to the xterm: click it. */
async function focusTerminal(vm: Vm): Promise<void> {
  if (!vm.image.guestAgent) return;
  const info = (await vm.exec('xwininfo -id $(xdotool search --class xterm | head -1)')).stdout;
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(-?\\d+)`).exec(info)?.[1] ?? NaN);
  await vm.mouse.click(num('Absolute upper-left X') + num('Width') / 2, num('Absolute upper-left Y') + num('Height') / 2);
}

/**
 * Types n random printable characters into `cat` and checks them: on tiny, cat writes to the
 * serial port and the log is read; with a guest agent (the desktop), it writes a file the agent reads.
 */
async function typeAndCheck(vm: Vm, n: number, type: (text: string) => Promise<void>): Promise<{ ok: boolean; keysPerSec: number }> {
  const text = randomText(n);
  const from = vm.serial.mark();
  const sink = vm.image.guestAgent ? '/tmp/bench-typed' : '/dev/ttyS0';
  await vm.keyboard.type(`cat > ${sink}\n`, { delay: 20 });
  await new Promise((r) => setTimeout(r, 300));
  const ms = await timeIt(() => type(text));
  await new Promise((r) => setTimeout(r, 1000));
  // A lost Enter or Control+D would leave cat running, a lost release a modifier held: retry the ending until the marker arrives.
  for (let attempt = 0; ; attempt++) {
    await vm.keyboard.type('\n', { delay: 50 });
    await vm.keyboard.press('Control+D');
    await vm.keyboard.type('echo BENCH-END > /dev/ttyS0\n', { delay: 50 });
    const arrived = await vm.waitForSerial(/BENCH-END/, { from, timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    if (arrived) break;
    if (attempt === 5) throw new Error('typing bench: the guest shell stopped answering');
    for (const key of ['Shift', 'Control', 'Alt']) await vm.keyboard.press(key);
    await vm.keyboard.press('Control+C');
  }
  const got = vm.image.guestAgent ? (await vm.exec(`cat ${sink}`)).stdout : (vm.serial.text().slice(from).split('BENCH-END')[0] ?? '');
  const ok = got.split(/\r?\n/).includes(text);
  if (!ok) {
    let i = 0;
    while (i < text.length && text[i] === got[i]) i++;
    console.log(
      `typing bench: ${n} sent; the first difference at ${i}: sent ${JSON.stringify(text.slice(i, i + 30))}, read back ${JSON.stringify(got.slice(i, i + 30))}`,
    );
  }
  return { ok, keysPerSec: (n / ms) * 1000 };
}

/**
 * 1,000 random printable characters at delay 0, read back exactly, through the virtio keyboard and
 * through PS/2 (the guest's virtio_input unloaded), at the default pause between key events and others,
 * then through a stalled vCPU and beside another VM that keeps a core busy.
 */
export async function benchTyping(vm: Vm, startBusyVm: () => Promise<Vm & AsyncDisposable>, n = 1000): Promise<void> {
  const rows: Row[] = [];
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0];
  await focusTerminal(vm);
  const best: Record<string, number> = {};
  for (const device of ['virtio', 'ps2'] as const) {
    if (!(await useKeyboard(vm, device))) {
      rows.push([device, '-', '-', 'could not switch to this keyboard']);
      continue;
    }
    await focusTerminal(vm);
    const gaps = [undefined, 1, ...(device === 'ps2' ? [10] : [])];
    for (const gap of gaps) {
      const keyboard = gap === undefined ? undefined : new Keyboard(backendsOf(vm).vnc, { eventGap: gap });
      const r = await typeAndCheck(vm, n, (text) => (keyboard ? keyboard.type(text, { delay: 0 }) : vm.keyboard.type(text, { delay: 0 })));
      rows.push([device, gap === undefined ? 'default (vm.keyboard)' : `${gap} ms`, r.keysPerSec.toFixed(1), r.ok ? 'exact' : 'LOST/CHANGED']);
      if (r.ok && gap === undefined) best[device] = r.keysPerSec;
    }
  }
  rows.push(...(await typingThroughStall(vm, n)));
  rows.push(...(await typingBesideBusyVm(vm, n, startBusyVm)));
  await useKeyboard(vm, 'virtio');
  rows.push(['ps2, before (issue 13)', '10 ms + QEMU key-delay-ms=10', BEFORE_KEYS_PER_SEC, 'exact']);
  rows.push(["openQA's default", '-', OPENQA_KEYS_PER_SEC, '-']);
  table(
    `Typing ${n} random printable characters at delay 0 into ${vm.image.name} (host load ${load})`,
    ['keyboard', 'time per key event (average)', 'keys/s', 'read back'],
    rows,
  );
  for (const [device, rate] of Object.entries(best))
    console.log(
      `${device}, default path: ${rate.toFixed(1)} lossless keys/s = ${(rate / OPENQA_KEYS_PER_SEC).toFixed(2)}x openQA's ${OPENQA_KEYS_PER_SEC} keys/s`,
    );
}

/** The guest's vCPU stopped this long, once, 500 ms into the typing (QEMU's main loop goes on). */
const STALL_MS = 800;

/**
 * Through each keyboard in turn, `typeOnce` with the default path (vm.keyboard, `defaultLabel`) and
 * with pacing alone, as before: a row each, `where` naming the device and the condition.
 */
async function defaultAgainstPacing(
  vm: Vm,
  defaultLabel: string,
  typeOnce: (keyboard: Pick<Keyboard, 'type'>) => Promise<{ where: string; keysPerSec: number; ok: boolean }>,
): Promise<Row[]> {
  const rows: Row[] = [];
  const paced = new Keyboard(backendsOf(vm).vnc);
  for (const device of ['virtio', 'ps2'] as const) {
    if (!(await useKeyboard(vm, device))) continue;
    await focusTerminal(vm);
    for (const [label, keyboard] of [
      [defaultLabel, vm.keyboard],
      ['2 ms, pacing alone (the default before)', paced],
    ] as const) {
      const r = await typeOnce(keyboard);
      rows.push([`${device}, ${r.where}`, label, r.keysPerSec.toFixed(1), r.ok ? 'exact' : 'LOST/CHANGED']);
    }
  }
  return rows;
}

/**
 * A guest whose vCPU isn't scheduled for a moment (beside a busy VM) empties its keyboard's queue
 * late: the default path, which waits for room in the keyboard (the virtio ring's, or what PS/2
 * has taken by its interrupts), against pacing alone.
 */
async function typingThroughStall(vm: Vm, n: number): Promise<Row[]> {
  if (!existsSync(FREEZER)) return [['vCPU stalled', '-', '-', `skipped: no cgroup v1 freezer at ${FREEZER}`]];
  return defaultAgainstPacing(vm, 'default (vm.keyboard), waits for room', async (keyboard) => {
    const stall = freezeVcpus(vm.name, STALL_MS, { after: 500 });
    const r = await typeAndCheck(vm, n, (text) => keyboard.type(text, { delay: 0 }));
    await stall;
    return { where: `vCPU stopped ${STALL_MS} ms`, ...r };
  });
}

/**
 * The load the suite's typing meets: another VM whose guest spins, so the two share the host's
 * cores (TCG). The default path against pacing alone; the row names the CPU the busy VM's QEMU
 * took over the whole measurement (typing, and reading the text back).
 */
async function typingBesideBusyVm(vm: Vm, n: number, startBusyVm: () => Promise<Vm & AsyncDisposable>): Promise<Row[]> {
  await using hog = await startBusyVm();
  await hog.keyboard.type('while :; do :; done &\n', { delay: 20 });
  const hogPid = await qemuPid(hog.name);
  // Awaited here: `hog` is disposed of when this function returns.
  return await defaultAgainstPacing(vm, 'default (vm.keyboard)', async (keyboard) => {
    const [cpu, wall] = [cpuSeconds(hogPid), performance.now()];
    const r = await typeAndCheck(vm, n, (text) => keyboard.type(text, { delay: 0 }));
    const share = (cpuSeconds(hogPid) - cpu) / ((performance.now() - wall) / 1000);
    return { where: `beside a busy VM (its QEMU ${Math.round(share * 100)} % of a core)`, ...r };
  });
}
