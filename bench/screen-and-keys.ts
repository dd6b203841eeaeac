import { execa } from 'execa';
import { rm } from 'node:fs/promises';
import { backendsOf, type Vm } from '../src/index.js';
import { fmtMs, median, table, timeIt } from './stats.js';

/** vm.screenshot() (from the mirror) against `virsh screenshot`, same VM, same still screen. */
export async function benchScreenshot(vm: Vm, runs = 30): Promise<void> {
  const ours: number[] = [];
  const virsh: number[] = [];
  const file = `/tmp/demotool-bench-${process.pid}.ppm`;
  for (let i = 0; i < runs; i++) {
    ours.push(await timeIt(() => vm.screenshot()));
    virsh.push(await timeIt(() => execa('virsh', ['-c', backendsOf(vm).domain.virsh.uri, 'screenshot', vm.name, file])));
  }
  await rm(file, { force: true });
  const a = median(ours);
  const b = median(virsh);
  table(
    `Screenshot latency, ${vm.image.name} (median of ${runs})`,
    ['method', 'median', 'ratio to virsh'],
    [
      ['vm.screenshot() (PNG from the mirror)', fmtMs(a), (a / b).toFixed(3)],
      ['virsh screenshot (PPM file)', fmtMs(b), '1.000'],
    ],
  );
  console.log(`vm.screenshot() takes ${((a / b) * 100).toFixed(1)}% of virsh screenshot's time (target: at most 10%)`);
}

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));

function randomText(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += PRINTABLE[Math.floor(Math.random() * PRINTABLE.length)];
  return s;
}

/** Types n random printable characters into `cat > /dev/ttyS0` and checks them on the serial log. */
async function typeAndCheck(vm: Vm, n: number, delay: number): Promise<{ ok: boolean; keysPerSec: number }> {
  const text = randomText(n);
  const from = vm.serial.mark();
  await vm.keyboard.type('cat > /dev/ttyS0\n', { delay: 0 });
  await new Promise((r) => setTimeout(r, 300));
  const ms = await timeIt(() => vm.keyboard.type(text, { delay }));
  await vm.keyboard.type('\n', { delay: 0 });
  await vm.keyboard.press('Control+D');
  await vm.keyboard.type('echo BENCH-END > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/BENCH-END/, { from, timeout: 60_000 });
  const [got = ''] = vm.serial.text().slice(from).split('BENCH-END');
  return { ok: got.split(/\r?\n/).includes(text), keysPerSec: (n / ms) * 1000 };
}

/** The fastest lossless typing rate over 1,000 random printable characters (tiny's shell). */
export async function benchTyping(vm: Vm, n = 1000): Promise<void> {
  const rows: (string | number)[][] = [];
  let best = 0;
  for (const delay of [0, 5, 10, 20, 33]) {
    const r = await typeAndCheck(vm, n, delay);
    rows.push([`${delay} ms`, r.keysPerSec.toFixed(1), r.ok ? 'exact' : 'LOST/CHANGED']);
    if (r.ok) best = Math.max(best, r.keysPerSec);
  }
  table(`Typing ${n} random printable characters into ${vm.image.name}`, ['delay per key', 'keys/s', 'read back'], rows);
  console.log(`fastest lossless rate: ${best.toFixed(1)} keys/s = ${(best / 30).toFixed(2)}x openQA's default 30 keys/s`);
}
