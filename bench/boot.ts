import { startDemo } from '../src/index.js';
import { fmtMs, median, table } from './stats.js';

const STEPS = ['overlay', 'define', 'start', 'running', 'vnc', 'ready'] as const;
const RULES = { auto: 'demotool: marker + settle', fixed: 'spec: VNC + fixed 10 s' } as const;

async function sampleBoots(image: string, strategy: keyof typeof RULES, runs: number): Promise<Record<string, number>> {
  const samples: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    await startDemo(`bench-boot-${strategy}`, { outputDir: 'bench-results' }, (demo) =>
      demo.vm(image, { ready: { strategy } }, async (vm) => {
        samples.push({ ...vm.timings, total: Object.values(vm.timings).reduce((a, b) => a + b, 0) });
      }),
    );
  }
  return Object.fromEntries([...STEPS, 'total'].map((k) => [k, median(samples.map((s) => s[k] ?? 0))]));
}

/**
 * Boots each image several times from cache with our readiness rule and with the spec's rule
 * (VNC answers, then a fixed 10 s), and prints the median of each step side by side.
 */
export async function benchBoot(images: { name: string; runs: number }[]): Promise<void> {
  const rows: (string | number)[][] = [];
  const ratios: string[] = [];
  for (const { name, runs } of images) {
    const ours = await sampleBoots(name, 'auto', runs);
    const spec = await sampleBoots(name, 'fixed', runs);
    for (const [rule, m] of [['auto', ours], ['fixed', spec]] as const)
      rows.push([name, RULES[rule], runs, ...STEPS.map((k) => fmtMs(m[k])), fmtMs(m.total)]);
    ratios.push(`${name}: ready after ${fmtMs(ours.total)} vs ${fmtMs(spec.total)} with the spec's rule → ${(spec.total / ours.total).toFixed(2)}x faster`);
  }
  table('Boot from a cached image (median per step)', ['image', 'readiness rule', 'runs', ...STEPS, 'total'], rows);
  ratios.forEach((r) => console.log(r));
}
