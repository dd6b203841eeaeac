/**
 * A soak of `demotool exhibit --config FILE`: one real daemon on the tiny guest, hundreds of
 * fault → revert cycles in a row (a paused domain, an operator's revert through the control API,
 * and now and then a SIGHUP reload of the same config). Printed, never asserted: the reverts done
 * and failed, the daemon's memory and open files at the start and the end, and the log lines lost.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtMs, median, table } from './stats.js';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 300);
const NAME = `exhibit-soak-${process.pid}`;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'exhibit'];
const LIBVIRT_URI = process.env.DEMOTOOL_LIBVIRT_URI || 'qemu:///session';
const CYCLE_TIMEOUT = 60_000;
const RELOAD_EVERY = 10;
const SAMPLE_EVERY = 50;

const CONFIG = `# demotool bench: exhibit soak
vm:
  image: tiny
  name: ${NAME}
resources:
  memoryMiB: 512
watchdog:
  heartbeatTimeout: 5s
  grace: 2s
  idleTimeout: 0ms
  guestRequestInterval: 0ms
  # Hundreds of faults in a row on purpose: no escalation to restarts or 'failed' here.
  escalation:
    maxReverts: 1000
    windowMs: 1m
    maxRestarts: 3
transport: serial
api:
  port: 0
onStart: revert
onStop: leave-running
`;

interface Status {
  state: string;
  reverts: number;
  last_revert: { started_at: string; ok: boolean } | null;
}

/** The daemon as systemd would run it, its stdout and stderr in one log file. */
class Daemon {
  private exited?: Promise<number | null>;
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }

  static async start(configFile: string, logFile: string): Promise<Daemon> {
    const out = await open(logFile, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, DEMOTOOL_LOG_LEVEL: 'info' };
    delete env.DEMOTOOL_LOG_FORMAT;
    try {
      return new Daemon(spawn(process.execPath, [...CLI, '--config', configFile], { cwd: ROOT, env, stdio: ['ignore', out.fd, out.fd] }), logFile);
    } finally {
      await out.close();
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): Promise<string> {
    return readFile(this.logFile, 'utf8');
  }

  async url(timeoutMs: number): Promise<string> {
    return poll(timeoutMs, `the daemon's URL in ${this.logFile}`, async () => {
      if (!this.running) throw new Error(`the daemon exited (${this.child.exitCode}):\n${await this.log()}`);
      return /status page and API at (http:\/\/\S+)/.exec(await this.log())?.[1];
    });
  }

  /** Sends `signal` and waits for the exit code; SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs = 60_000): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code ?? null;
  }
}

/** Calls `probe` every 200 ms until it gives a value; throws after `timeoutMs`. */
async function poll<T>(timeoutMs: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function status(url: string): Promise<Status> {
  return (await (await fetch(`${url}/api/v1/status`)).json()) as Status;
}

/** The daemon's resident memory (MiB) and open file descriptors, from /proc. */
async function usage(pid: number): Promise<{ rssMiB: number; fds: number }> {
  const proc = await readFile(`/proc/${pid}/status`, 'utf8');
  const kB = Number(/^VmRSS:\s+(\d+) kB/m.exec(proc)?.[1] ?? NaN);
  return { rssMiB: kB / 1024, fds: (await readdir(`/proc/${pid}/fd`)).length };
}

/** demotool_watchdog_reverts_total by outcome ('ok', ...), summed over the other labels. */
async function revertCounter(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const byOutcome: Record<string, number> = {};
  for (const m of text.matchAll(/^demotool_watchdog_reverts_total\{([^}]*)\} (\S+)$/gm)) {
    const outcome = /outcome="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '?';
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + Number(m[2]);
  }
  return byOutcome;
}

interface Fault {
  kind: string;
  inject: (url: string) => Promise<unknown>;
}

const FAULTS: Fault[] = [
  { kind: 'virsh suspend (domain-paused)', inject: () => execa('virsh', ['-q', '-c', LIBVIRT_URI, 'suspend', NAME]) },
  {
    kind: 'POST /api/v1/vm/restart',
    inject: async (url) => {
      const r = await fetch(`${url}/api/v1/vm/restart`, { method: 'POST' });
      if (!r.ok) throw new Error(`restart answered ${r.status}: ${await r.text()}`);
    },
  },
];

interface Tally {
  times: number[];
  failed: number;
  reloadsSent: number;
  errors: string[];
}

/** SIGHUP with the file unchanged: waits for the daemon to say it reloaded. */
async function reload(daemon: Daemon): Promise<void> {
  const count = async () => (await daemon.log()).split('config reloaded').length;
  const before = await count();
  daemon.child.kill('SIGHUP');
  await poll(30_000, "'config reloaded' after SIGHUP", async () => ((await count()) > before ? true : undefined));
}

/** One fault, then until a new revert is recorded and the guest is healthy again. Returns whether it went well. */
async function cycle(daemon: Daemon, url: string, n: number, tally: Tally): Promise<void> {
  await poll(CYCLE_TIMEOUT, 'healthy state before the fault', async () => ((await status(url)).state === 'healthy' ? true : undefined));
  if (n % RELOAD_EVERY === RELOAD_EVERY - 1) {
    tally.reloadsSent++;
    await reload(daemon);
  }
  const before = await status(url);
  const fault = FAULTS[n % FAULTS.length]!;
  const t0 = performance.now();
  await fault.inject(url);
  // The history is capped: a new record shows in last_revert.started_at even when the count stands still.
  const after = await poll(CYCLE_TIMEOUT, `revert and healthy after ${fault.kind}`, async () => {
    const s = await status(url);
    const newRevert = s.reverts > before.reverts || s.last_revert?.started_at !== before.last_revert?.started_at;
    return newRevert && (s.state === 'healthy' || s.last_revert?.ok === false) ? s : undefined;
  });
  tally.times.push(performance.now() - t0);
  if (after.last_revert?.ok === false) tally.failed++;
}

async function runCycles(daemon: Daemon, url: string, samples: (string | number)[][]): Promise<Tally> {
  const tally: Tally = { times: [], failed: 0, reloadsSent: 0, errors: [] };
  for (let n = 0; n < CYCLES && daemon.running; n++) {
    await cycle(daemon, url, n, tally).catch((e: Error) => {
      tally.failed++;
      tally.errors.push(`cycle ${n + 1}: ${e.message.split('\n')[0]}`);
    });
    if ((n + 1) % SAMPLE_EVERY === 0 || n + 1 === CYCLES) {
      const u = await usage(daemon.child.pid!);
      samples.push([n + 1, (await status(url)).reverts, u.rssMiB.toFixed(1), u.fds]);
      console.log(`soak: ${n + 1}/${CYCLES} cycles, RSS ${u.rssMiB.toFixed(1)} MiB, ${u.fds} fds`);
    }
  }
  return tally;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

/** The soak itself, once the daemon watches a healthy guest. */
async function soak(daemon: Daemon, url: string): Promise<void> {
  const pid = daemon.child.pid!;
  const start = await usage(pid);
  const samples: (string | number)[][] = [[0, (await status(url)).reverts, start.rssMiB.toFixed(1), start.fds]];
  const t0 = performance.now();
  const tally = await runCycles(daemon, url, samples);
  const minutes = (performance.now() - t0) / 60_000;
  if (!daemon.running) throw new Error(`the daemon exited during the soak (${daemon.child.exitCode}):\n${(await daemon.log()).slice(-4000)}`);
  const end = await usage(pid);
  const final = await status(url);
  const counter = await revertCounter(url);
  const screenPng = (await (await fetch(`${url}/api/v1/screen.png`)).arrayBuffer()).byteLength;
  const exitCode = await daemon.stop('SIGTERM');
  const log = await daemon.log();
  const logged = (log.match(/\] reverted reason=/g) ?? []).length + (log.match(/\] revert failed /g) ?? []).length;
  const reloaded = (log.match(/demotool exhibit: config reloaded/g) ?? []).length;
  const counted = Object.values(counter).reduce((a, b) => a + b, 0);
  table(
    `Exhibit daemon soak: ${NAME}, tiny guest, serial transport (${minutes.toFixed(1)} min)`,
    ['', 'value'],
    [
      ['cycles (paused domain / API revert alternately)', tally.times.length + tally.errors.length],
      ['SIGHUP reloads sent → applied', `${tally.reloadsSent} → ${reloaded}`],
      ['reverts done (status.reverts)', final.reverts],
      ['reverts in /metrics (ok / other outcomes)', `${counter.ok ?? 0} / ${counted - (counter.ok ?? 0)}`],
      ['reverts failed (record not ok, or no healthy guest in 60 s)', tally.failed],
      ['cycle, fault → healthy: median / p95', `${fmtMs(median(tally.times))} / ${fmtMs(percentile(tally.times, 95))}`],
      ['daemon RSS start → end', `${start.rssMiB.toFixed(1)} → ${end.rssMiB.toFixed(1)} MiB`],
      ['daemon open fds start → end', `${start.fds} → ${end.fds}`],
      ['log lines lost (status.reverts − "reverted"/"revert failed" lines)', final.reverts - logged],
      ['daemon exit code on SIGTERM', String(exitCode)],
    ],
  );
  table('Daemon memory by cycle', ['cycles', 'reverts', 'RSS MiB', 'fds'], samples);
  console.log(`\nOne screen PNG is ${(screenPng / 1024).toFixed(1)} KiB; each revert record keeps two (before, after), up to 1000 records.`);
  for (const e of tally.errors.slice(0, 10)) console.log(`failed: ${e}`);
}

/** Several hundred fault and revert cycles against one `demotool exhibit` daemon (SOAK_CYCLES, default 300). */
export async function benchExhibitSoak(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'demotool-exhibit-soak-'));
  const configFile = join(dir, 'soak.yaml');
  let daemon: Daemon | undefined;
  try {
    await writeFile(configFile, CONFIG);
    daemon = await Daemon.start(configFile, join(dir, 'daemon.log'));
    const url = await daemon.url(300_000);
    await poll(120_000, 'healthy guest at start', async () => ((await status(url)).state === 'healthy' ? true : undefined));
    await soak(daemon, url);
  } finally {
    await daemon?.stop('SIGKILL', 10_000);
    // However the soak ended: the VM, its overlay and its network go.
    const removed = await execa(process.execPath, [...CLI, 'remove', '--config', configFile], { cwd: ROOT, reject: false, all: true });
    if (removed.exitCode !== 0) console.log(`exhibit remove failed (${removed.exitCode}): ${removed.all}`);
    await rm(dir, { recursive: true, force: true });
  }
}
