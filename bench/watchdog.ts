import { request } from 'node:http';
import { backendsOf, startDemo, type Vm, type Watchdog } from '../src/index.js';
import { fmtMs, median, table } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DESKTOP = { resources: { memoryMiB: 2048 }, guestMonitors: { transport: 'http' as const } };
const HEARTBEAT_TIMEOUT = 10_000;

/** Reverts of the desktop guest by each method, the same snapshot, in one run. */
async function revertMethods(vm: Vm): Promise<{ rows: (string | number)[][]; medians: RevertTimes }> {
  const rows: (string | number)[][] = [];
  const medians: RevertTimes = {};
  for (const revertMethod of ['in-place', 'snapshot-revert'] as const) {
    await using watchdog = await vm.watchdog({
      revertMethod,
      heartbeatTimeout: 0,
      autoRevert: false,
      api: false,
      takeSnapshot: revertMethod === 'in-place' ? 'always' : 'never',
    });
    const durations: number[] = [];
    const vncBack: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const record = await watchdog.revert('bench');
      durations.push(record.durationMs);
      // libvirt's revert restarts QEMU: the screen is usable again once VNC has reconnected.
      while (!backendsOf(vm).vnc.connected) await new Promise((r) => setTimeout(r, 10));
      vncBack.push(performance.now() - t0);
    }
    medians[revertMethod] = median(vncBack);
    rows.push([revertMethod, RUNS, fmtMs(median(durations)), fmtMs(median(vncBack)), fmtMs(Math.min(...durations)), fmtMs(Math.max(...durations))]);
  }
  // A restart is a kill and then libvirt's revert.
  medians.restart = medians['snapshot-revert']!;
  return { rows, medians };
}

interface Fault {
  kind: string;
  reason: string;
  inject: (vm: Vm) => Promise<unknown>;
  /** The target: detection + the revert (of the method used) + 2 s. */
  budget: (revertMs: number) => number;
}

type RevertTimes = Record<string, number>;

const inGuest = (vm: Vm, command: string) => vm.exec(`(sleep 0.2; ${command}) >/dev/null 2>&1 &`, { user: 'root' });

const FAULTS: Fault[] = [
  { kind: 'heartbeat stopped', reason: 'heartbeat-timeout', inject: (vm) => inGuest(vm, 'demotool-guest stop'), budget: (r) => HEARTBEAT_TIMEOUT + r + 2_000 },
  { kind: 'kernel panic', reason: 'guest-panic', inject: (vm) => inGuest(vm, 'echo c > /proc/sysrq-trigger'), budget: (r) => r + 2_000 },
  {
    kind: 'QEMU killed',
    reason: 'domain-crashed',
    budget: (r) => r + 2_000,
    inject: async (vm) => {
      const { execa } = await import('execa');
      await execa('pkill', ['-KILL', '-f', '--', `-name guest=${vm.name},`]);
    },
  },
  { kind: 'guest revert request', reason: 'guest-request', inject: (vm) => inGuest(vm, 'demotool-guest send revert bench'), budget: (r) => r + 2_000 },
];

/** From the fault to the screen back at the snapshot, per fault kind. */
async function recoveries(vm: Vm, watchdog: Watchdog, atSnapshot: Buffer, revertMs: RevertTimes): Promise<(string | number)[][]> {
  const rows: (string | number)[][] = [];
  for (const fault of FAULTS) {
    const totals: number[] = [];
    const methods = new Set<string>();
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      await watchdog.waitFor(() => (watchdog.state === 'healthy' ? true : undefined), 120_000);
      const before = watchdog.reverts.length;
      const t0 = performance.now();
      // A fast revert can take the guest agent away before it reports the injecting command's end.
      await fault.inject(vm).catch((e: Error) => {
        if (!/Guest agent (is not responding|disappeared)/.test(e.message)) throw e;
      });
      await watchdog.waitFor(() => (watchdog.reverts.length > before ? true : undefined), 120_000);
      await vm.waitForScreen(atSnapshot, { timeout: 60_000 });
      totals.push(performance.now() - t0);
      methods.add(watchdog.reverts.at(-1)!.method);
    }
    const total = median(totals);
    const budget = fault.budget(Math.max(...[...methods].map((m) => revertMs[m] ?? revertMs['snapshot-revert']!)));
    rows.push([fault.kind, fault.reason, [...methods].join('/'), totals.length, fmtMs(total), fmtMs(budget), total <= budget ? 'met' : 'NOT met']);
  }
  return rows;
}

/** Heartbeats a second through the guest listener (a new connection each, as guests do). */
async function throughput(socketPath: string, total = 5_000, concurrency = 20): Promise<number> {
  let sent = 0;
  let ok = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ socketPath, path: '/api/v1/heartbeat', method: 'GET', agent: false }, (res) => {
        if (res.statusCode === 200) ok++;
        res.resume().on('end', resolve);
      });
      req.on('error', () => resolve());
      req.end();
    });
  const worker = async () => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (ok !== total) console.log(`heartbeat burst: ${total - ok} of ${total} failed`);
  return ok / seconds;
}

/** The same through the whole guest path: curl in the guest → passt → relay → the listener (bounded loop). */
async function guestThroughput(vm: Vm, watchdog: Watchdog, count = 200): Promise<number> {
  const before = watchdog.status().guest.heartbeats;
  const t0 = performance.now();
  await vm.exec(`for i in $(seq ${count}); do curl -s -o /dev/null http://192.168.122.1:8000/api/v1/heartbeat; done`, { user: 'root', timeout: 120_000 });
  const seconds = (performance.now() - t0) / 1000;
  return (watchdog.status().guest.heartbeats - before) / seconds;
}

/**
 * The watchdog on the desktop guest (2 GiB, TCG): revert by each method, full recoveries by
 * fault kind against detection + revert + 2 s, and heartbeat throughput. The exhibition
 * controller's own cycle is about 29 s (15 s timeout, ~4 s revert, 10 s wait).
 */
export async function benchWatchdog(): Promise<void> {
  await startDemo('bench-watchdog', { outputDir: 'bench-results' }, (demo) =>
    demo.vm('debian-12-desktop', DESKTOP, async (vm) => {
      const methods = await revertMethods(vm);
      table('Revert of the desktop guest (2 GiB), same snapshot', ['method', 'runs', 'median', 'until VNC is back', 'min', 'max'], methods.rows);
      // Many faults in a row on purpose: no escalation to restarts here.
      await using watchdog = await vm.watchdog({
        heartbeatTimeout: HEARTBEAT_TIMEOUT,
        grace: 5_000,
        guestRequestInterval: 0,
        takeSnapshot: 'always',
        escalation: { maxReverts: 1_000 },
      });
      await watchdog.waitFor(() => (watchdog.state === 'healthy' ? true : undefined), 120_000);
      const atSnapshot = await watchdog.revert('bench: settle at the snapshot').then(() => vm.screenshot());
      const rows = await recoveries(vm, watchdog, atSnapshot, methods.medians);
      table(
        `Full recovery, fault → screen back at the snapshot (heartbeat timeout ${HEARTBEAT_TIMEOUT / 1000} s; the original: ~29 s)`,
        ['fault', 'reason', 'method', 'runs', 'median', 'target', ''],
        rows,
      );
      const host = await throughput(vm.channels.apiSocket!);
      const guest = await guestThroughput(vm, watchdog);
      table(
        'Heartbeats a second (new connection each)',
        ['path', 'rate'],
        [
          ['host loopback → guest listener (unix socket), 20 at a time', host.toFixed(0)],
          ['guest curl loop → passt → relay → listener', guest.toFixed(1)],
          ['needed: one guest beating every second', '1'],
        ],
      );
    }),
  );
}
