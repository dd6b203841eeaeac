// What the bench compares against must be there before the first measurement (a missing VLC
// used to end `npm run bench` after 11 minutes of boots), and the suites' wall times on request.
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { fmtMs, table } from './stats.js';

interface Reference {
  /** The bench parts that spawn it. */
  parts: string[];
  what: string;
  /** Resolves true when it is usable. */
  present: () => Promise<boolean>;
  install: string;
}

const ok = async (cmd: string, args: string[]) => (await execa(cmd, args, { reject: false, timeout: 30_000 })).exitCode === 0;

/** cvlc and its arguments as a command line: VLC refuses to run as root, so root runs it as nobody. */
export function vlcCommand(args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'nobody', '--', 'cvlc', ...args]] : ['cvlc', args];
}

/** VLC's modules: the VNC input and the H.264 encoder are plugins, packaged apart on Debian. */
const vlcModules = async () => (await execa(...vlcCommand(['--list']), { reject: false, timeout: 30_000 })).stdout ?? '';

const REFERENCES: Reference[] = [
  {
    parts: ['record'],
    what: 'runuser (VLC refuses to run as root)',
    present: async () => process.getuid?.() !== 0 || ok('runuser', ['--version']),
    install: 'util-linux',
  },
  { parts: ['record'], what: 'VLC (cvlc)', present: () => ok(...vlcCommand(['--version'])), install: 'vlc' },
  {
    parts: ['record'],
    what: "VLC's VNC input (vnc module)",
    present: async () => /^\s+vnc\s/m.test(await vlcModules()),
    install: 'vlc-plugin-access-extra (Debian/Ubuntu)',
  },
  {
    parts: ['record'],
    what: "VLC's H.264 encoder (x264 module)",
    present: async () => /^\s+x264\s/m.test(await vlcModules()),
    install: 'vlc-plugin-base (Debian/Ubuntu)',
  },
  { parts: ['record'], what: 'pgrep', present: () => ok('pgrep', ['--version']), install: 'procps' },
  { parts: ['screenshot', 'exhibit-soak'], what: 'virsh', present: () => ok('virsh', ['--version']), install: 'libvirt-clients' },
];

/**
 * Checks every reference tool the wanted bench parts spawn, and stops with what to install when
 * one is missing. With BENCH_SUITES, also times `npm run demo` and `npm test` once the bench ends.
 */
export async function prepareBench(want: (part: string) => boolean): Promise<void> {
  const missing: Reference[] = [];
  for (const r of REFERENCES) if (r.parts.some(want) && !(await r.present().catch(() => false))) missing.push(r);
  if (missing.length > 0) {
    console.error(
      [
        'The bench compares against tools that are missing:',
        ...missing.map((r) => `  - ${r.what}: install ${r.install}`),
        'Install them with `node scripts/setup.mjs --bench --yes` (what `npm run bench` runs), or leave those parts out:',
        '`npm run bench -- boot keys screenshot watchdog` (the parts you name run).',
      ].join('\n'),
    );
    process.exit(2);
  }
  if (suitesWanted().length > 0) process.once('beforeExit', () => void timeSuites());
}

/** BENCH_SUITES=1: both runs users feel; `demo` or `test`: that one. */
function suitesWanted(): string[] {
  const v = process.env.BENCH_SUITES ?? '';
  return v === '1' ? ['demo', 'test'] : v.split(',').filter((s) => s === 'demo' || s === 'test');
}

/**
 * Wall time of the runs users feel, after the bench has warmed the image caches: each as it
 * runs by default (warm starts) and with every VM booted from its image (DEMOTOOL_START=cold),
 * side by side. Slow: `npm run demo` a few minutes, `npm test` 35+ minutes each way.
 */
async function timeSuites(): Promise<void> {
  await mkdir('bench-results', { recursive: true });
  const rows: string[][] = [];
  for (const script of suitesWanted()) {
    const times = { warm: 0, cold: 0 };
    for (const start of ['warm', 'cold'] as const) {
      const log = `bench-results/npm-${script}-${start}.log`;
      const t = performance.now();
      const r = await execa('npm', ['run', script], { reject: false, stdin: 'ignore', all: true, env: { DEMOTOOL_START: start } });
      times[start] = performance.now() - t;
      await writeFile(log, r.all ?? '');
      const summary = /\d+ passed[^\n]*|\d+ failed[^\n]*/.exec(r.all ?? '')?.[0] ?? '';
      rows.push([
        `npm ${script === 'test' ? 'test' : 'run demo'}`,
        start,
        fmtMs(times[start]),
        r.exitCode === 0 ? `passed (${summary})` : `failed (exit ${r.exitCode})`,
        log,
      ]);
    }
    rows.push([`npm ${script === 'test' ? 'test' : 'run demo'}`, 'warm / cold', `${(times.warm / times.cold).toFixed(2)}`, '', '']);
  }
  table('The whole suite (BENCH_SUITES), wall time, warm starts and DEMOTOOL_START=cold', ['run', 'start', 'wall time', 'result', 'output'], rows);
}
