// The runs users feel, timed as they run by default (warm starts) and with every VM booted from
// its image (DEMOTOOL_START=cold), side by side, after the bench has warmed the image caches.
// `npm test` also runs as it did before the speed work: cold, and one worker.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixtureDir } from '../tests/e2e/support/virt-builder-fixture.js';
import { fmtMs, table } from './stats.js';

const LABEL = { demo: 'npm run demo', test: 'npm test' } as const;

interface SuiteRun {
  name: string;
  /** In the log's file name. */
  slug: string;
  start: 'warm' | 'cold';
  /** Passed on to Playwright. */
  args: string[];
}

const RUNS: Record<keyof typeof LABEL, SuiteRun[]> = {
  demo: [
    { name: 'warm', slug: 'warm', start: 'warm', args: [] },
    { name: 'cold', slug: 'cold', start: 'cold', args: [] },
  ],
  test: [
    { name: 'warm', slug: 'warm', start: 'warm', args: [] },
    { name: 'cold', slug: 'cold', start: 'cold', args: [] },
    { name: 'cold, one worker (as before the speed work)', slug: 'cold-one-worker', start: 'cold', args: ['--workers=1'] },
  ],
};

/**
 * The virt-builder test's template (tests/e2e/images-virt-builder.spec.ts) is built once per
 * machine, with mmdebstrap: on a fresh machine the test took 11 minutes in the first timed run,
 * whichever that was, and the others found the template built. Built here first, it counts in none.
 */
async function buildTestFixtures(): Promise<void> {
  if (existsSync(path.join(fixtureDir(), 'index'))) return;
  console.log('Building the test fixture a machine builds once (the virt-builder template), before timing npm test');
  await execa('npx', ['playwright', 'test', '--project=e2e', 'tests/e2e/images-virt-builder.spec.ts'], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'inherit',
  });
}

/**
 * The runs BENCH_SUITE_RUNS names (`script:slug`, comma-separated: `test:warm,test:cold-one-worker`),
 * else all of `scripts`. An unknown name stops the bench before the first run.
 */
function chosenRuns(scripts: (keyof typeof LABEL)[]): Record<keyof typeof LABEL, SuiteRun[]> {
  const named = (process.env.BENCH_SUITE_RUNS ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const all = Object.entries(RUNS).flatMap(([script, runs]) => runs.map((run) => `${script}:${run.slug}`));
  const unknown = named.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`BENCH_SUITE_RUNS: no run named ${unknown.join(', ')}; the runs: ${all.join(', ')}`);
  const pick = (script: keyof typeof LABEL) =>
    RUNS[script].filter((run) => (named.length ? named.includes(`${script}:${run.slug}`) : scripts.includes(script)));
  return { demo: pick('demo'), test: pick('test') };
}

/** `npm run demo` takes a few minutes a run; `npm test` (with BENCH_NPM_TEST=1) 17, 21 and 38 minutes. */
export async function benchSuites(scripts: (keyof typeof LABEL)[]): Promise<void> {
  const chosen = chosenRuns(scripts);
  await mkdir('bench-results', { recursive: true });
  const rows: string[][] = [];
  for (const script of Object.keys(LABEL) as (keyof typeof LABEL)[]) {
    if (script === 'test' && chosen.test.length) await buildTestFixtures();
    const times = new Map<string, number>();
    for (const run of chosen[script]) {
      const log = `bench-results/npm-${script}-${run.slug}.log`;
      const t = performance.now();
      const args = ['run', script, ...(run.args.length ? ['--', ...run.args] : [])];
      const r = await execa('npm', args, { reject: false, stdin: 'ignore', all: true, env: { DEMOTOOL_START: run.start } });
      times.set(run.name, performance.now() - t);
      await writeFile(log, r.all ?? '');
      const summary = /\d+ (passed|failed)[^\n]*/.exec(r.all ?? '')?.[0] ?? 'no summary';
      rows.push([
        LABEL[script],
        run.name,
        fmtMs(times.get(run.name)!),
        r.exitCode === 0 ? `passed (${summary})` : `failed (exit ${r.exitCode}; ${summary})`,
        log,
      ]);
    }
    const warm = times.get('warm');
    for (const [name, time] of times) if (warm !== undefined && name !== 'warm') rows.push([LABEL[script], `warm / ${name}`, (warm / time).toFixed(2), '', '']);
  }
  table('The whole suite, wall time: warm starts against DEMOTOOL_START=cold', ['run', 'start', 'wall time', 'result', 'output'], rows);
}
