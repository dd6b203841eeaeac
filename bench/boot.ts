import { startDemo, type Vm } from '../src/index.js';
import { fmtMs, median, table } from './stats.js';

const STEPS = ['overlay', 'define', 'start', 'running', 'vnc', 'ready'] as const;
const RULES = { auto: 'demotool: marker + settle', fixed: 'spec: VNC + fixed 10 s' } as const;

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

async function sampleBoots(image: string, strategy: keyof typeof RULES, runs: number): Promise<BootSample> {
  const samples: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    await startDemo(`bench-boot-${strategy}`, { outputDir: 'bench-results' }, (demo) =>
      demo.vm(image, { ready: { strategy }, bootTimeout: 300_000 }, async (vm) => {
        const early = await readinessError(vm, performance.now());
        samples.push({ ...vm.timings, total: Object.values(vm.timings).reduce((a, b) => a + b, 0), early });
      }),
    );
  }
  return Object.fromEntries([...STEPS, 'total', 'early'].map((k) => [k, median(samples.map((s) => s[k] ?? 0))])) as BootSample;
}

/**
 * Boots each image several times from cache with our readiness rule and with the spec's rule
 * (VNC answers, then a fixed 10 s), and prints the median of each step side by side, and how
 * far before the guest was really ready each rule said it was.
 */
export async function benchBoot(images: { name: string; runs: number }[]): Promise<void> {
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const { name, runs } of images) {
    const ours = await sampleBoots(name, 'auto', runs);
    const spec = await sampleBoots(name, 'fixed', runs);
    for (const [rule, m] of [
      ['auto', ours],
      ['fixed', spec],
    ] as const)
      rows.push([name, RULES[rule], runs, ...STEPS.map((k) => fmtMs(m[k])), fmtMs(m.total), m.early < 0 ? `${fmtMs(-m.early)} too early` : 'no']);
    notes.push(
      spec.early < 0
        ? `${name}: the spec's rule says ready ${fmtMs(-spec.early)} before the guest is; demotool waits for it (${fmtMs(ours.total)})`
        : `${name}: ready after ${fmtMs(ours.total)} vs ${fmtMs(spec.total)} with the spec's rule → ${(spec.total / ours.total).toFixed(2)}x faster`,
    );
  }
  table('Boot from a cached image (median per step)', ['image', 'readiness rule', 'runs', ...STEPS, 'total', 'premature?'], rows);
  notes.forEach((r) => console.log(r));
}
