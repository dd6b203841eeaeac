// The runs users feel, timed as they run by default (warm starts) and with every VM booted from
// its image (DEMOTOOL_START=cold), side by side, after the bench has warmed the image caches.
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { fmtMs, table } from './stats.js';

const LABEL = { demo: 'npm run demo', test: 'npm test' } as const;

/** `npm run demo` takes a few minutes each way; `npm test` (with BENCH_NPM_TEST=1) 35+ minutes each way. */
export async function benchSuites(scripts: (keyof typeof LABEL)[]): Promise<void> {
  await mkdir('bench-results', { recursive: true });
  const rows: string[][] = [];
  for (const script of scripts) {
    const times = { warm: 0, cold: 0 };
    for (const start of ['warm', 'cold'] as const) {
      const log = `bench-results/npm-${script}-${start}.log`;
      const t = performance.now();
      const r = await execa('npm', ['run', script], { reject: false, stdin: 'ignore', all: true, env: { DEMOTOOL_START: start } });
      times[start] = performance.now() - t;
      await writeFile(log, r.all ?? '');
      const summary = /\d+ (passed|failed)[^\n]*/.exec(r.all ?? '')?.[0] ?? 'no summary';
      rows.push([LABEL[script], start, fmtMs(times[start]), r.exitCode === 0 ? `passed (${summary})` : `failed (exit ${r.exitCode}; ${summary})`, log]);
    }
    rows.push([LABEL[script], 'warm / cold', (times.warm / times.cold).toFixed(2), '', '']);
  }
  table('The whole suite, wall time: warm starts against DEMOTOOL_START=cold', ['run', 'start', 'wall time', 'result', 'output'], rows);
}
