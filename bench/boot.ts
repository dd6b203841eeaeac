import { startDemo, type Vm } from '../src/index.js';
import { fmtMs, median, table } from './stats.js';

const STEPS = ['prepare', 'overlay', 'define', 'start', 'restore', 'running', 'vnc', 'ready'] as const;
const MODES = {
  warm: { label: 'demotool warm: saved boot restored', start: 'warm', strategy: 'auto' },
  cold: { label: 'demotool cold: marker + settle', start: 'cold', strategy: 'auto' },
  fixed: { label: 'spec cold: VNC + fixed 10 s', start: 'cold', strategy: 'fixed' },
} as const;
type Mode = keyof typeof MODES;

/**
 * How early or late the rule said "ready": the guest is really ready when its marker reaches the
 * serial log (its shell or desktop is up). Negative: declared ready before the guest was.
 */
async function readinessError(vm: Vm, declaredAt: number): Promise<number> {
  const marker = vm.image.readyMarker;
  if (!marker) return NaN;
  if (new RegExp(marker).test(vm.serial.text())) return 0;
  await vm.waitForSerial(new RegExp(marker), { timeout: 300_000 });
  return declaredAt - performance.now();
}

type BootSample = Record<(typeof STEPS)[number] | 'total' | 'early', number>;

async function sampleBoots(image: string, mode: Mode, runs: number): Promise<BootSample> {
  const samples: Record<string, number>[] = [];
  const { start, strategy } = MODES[mode];
  // A warm start needs a saved boot: the first warm-mode boot makes it when there is none, and is not counted.
  for (let i = mode === 'warm' ? -1 : 0; i < runs; i++) {
    await startDemo(`bench-boot-${mode}`, { outputDir: 'bench-results' }, (demo) => {
      // The total is what the caller waits, from asking for the VM to holding it (the steps leave out the stale-VM sweep beside them).
      const asked = performance.now();
      return demo.vm(image, { ready: { strategy }, start, bootTimeout: 300_000 }, async (vm) => {
        const total = performance.now() - asked;
        const early = vm.started === 'warm' ? 0 : await readinessError(vm, performance.now());
        const { save, ...steps } = vm.timings;
        if (i >= 0) samples.push({ ...steps, total: save === undefined ? total : total - save, early });
      });
    });
  }
  return Object.fromEntries([...STEPS, 'total', 'early'].map((k) => [k, median(samples.map((s) => s[k] ?? 0))])) as BootSample;
}

/**
 * Boots each image several times from cache: restored from its saved boot (warm), booted with our
 * readiness rule (cold), and with the spec's rule (VNC answers, then a fixed 10 s). Prints the
 * median of each step side by side, how far before the guest was really ready each rule said it
 * was, and the warm start against both.
 */
export async function benchBoot(images: { name: string; runs: number }[]): Promise<void> {
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const { name, runs } of images) {
    const m = { warm: await sampleBoots(name, 'warm', runs), cold: await sampleBoots(name, 'cold', runs), fixed: await sampleBoots(name, 'fixed', runs) };
    for (const mode of ['warm', 'cold', 'fixed'] as const)
      rows.push([
        name,
        MODES[mode].label,
        runs,
        ...STEPS.map((k) => (m[mode][k] ? fmtMs(m[mode][k]) : '-')),
        fmtMs(m[mode].total),
        m[mode].early < 0 ? `${fmtMs(-m[mode].early)} too early` : 'no',
      ]);
    notes.push(`${name}: warm ready after ${fmtMs(m.warm.total)} vs cold ${fmtMs(m.cold.total)} → ${(m.cold.total / m.warm.total).toFixed(2)}x faster`);
    notes.push(
      m.fixed.early < 0
        ? `${name}: the spec's rule says ready ${fmtMs(-m.fixed.early)} before the guest is; demotool waits for it (${fmtMs(m.cold.total)} cold)`
        : `${name}: cold ready after ${fmtMs(m.cold.total)} vs ${fmtMs(m.fixed.total)} with the spec's rule → ${(m.fixed.total / m.cold.total).toFixed(2)}x faster`,
    );
  }
  table('Boot from a cached image (median per step)', ['image', 'start', 'runs', ...STEPS, 'total', 'premature?'], rows);
  notes.forEach((r) => console.log(r));
}
