import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WatchdogState, WatchdogStatus } from './status.js';
import { REVERT_REASONS, type RevertMethod, type RevertRecord } from './triggers.js';

/** Every watchdog state, for the one-series-per-state gauge (a Record, so a new state can't be forgotten). */
const STATES = Object.keys({
  waiting: true,
  healthy: true,
  'timed-out': true,
  paused: true,
  watching: true,
  reverting: true,
  stopped: true,
  failed: true,
  closed: true,
} satisfies Record<WatchdogState, true>) as WatchdogState[];

const METHODS: readonly RevertMethod[] = ['in-place', 'snapshot-revert', 'restart'];

/** From an in-place revert (well under a second) to a cold restart of a slow guest (minutes). */
const DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/**
 * The process's own metrics (memory, CPU, open files, event loop), collected once per process
 * in a registry of its own (never prom-client's global one): they describe the process, not a
 * VM, and collecting them per watchdog would start a new event-loop monitor each time.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** What the metrics read at each scrape: the watchdog's own status. */
export interface MetricsSource {
  readonly vm: { readonly name: string };
  status(): WatchdogStatus;
}

/**
 * One watchdog's Prometheus metrics, in a registry of its own (two watchdogs in one process
 * never share a series), every series labelled with the VM's name. Gauges are read from the
 * watchdog's status when scraped; reverts are counted as they end (`revert()`).
 */
export class WatchdogMetrics {
  private readonly registry = new Registry();
  private readonly reverts: Counter<'reason' | 'method' | 'outcome'>;
  private readonly durations: Histogram<'method' | 'outcome'>;
  private readonly startedAt = Date.now();

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ vm: source.vm.name });
    const startedAt = this.startedAt;
    let heartbeatsSeen = 0;

    this.reverts = new Counter({
      name: 'demotool_watchdog_reverts_total',
      help: 'Recoveries carried out, by what asked for them, how, and whether they worked.',
      labelNames: ['reason', 'method', 'outcome'],
      registers,
    });
    // Every series present from the start at 0, so rate() and increase() see the first revert.
    for (const reason of REVERT_REASONS)
      for (const method of METHODS) for (const outcome of ['ok', 'failed']) this.reverts.labels({ reason, method, outcome }).inc(0);

    this.durations = new Histogram({
      name: 'demotool_watchdog_revert_duration_seconds',
      help: 'How long recoveries took, from the fault to the VM running its snapshot again.',
      labelNames: ['method', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    for (const method of METHODS) for (const outcome of ['ok', 'failed']) this.durations.zero({ method, outcome });

    new Gauge({
      name: 'demotool_watchdog_heartbeat_age_seconds',
      help: "Seconds since the guest's last heartbeat (since the last revert's grace ended, after one). Absent until the first heartbeat.",
      registers,
      collect() {
        const heartbeat = source.status().heartbeat;
        // No series rather than a made-up age: alerts on the age then can't fire at start-up.
        if (heartbeat.has_received_heartbeat) this.set(heartbeat.time_since_heartbeat);
        else this.remove();
      },
    });
    new Gauge({
      name: 'demotool_watchdog_heartbeat_timeout_seconds',
      help: 'The heartbeat timeout: a guest silent this long is reverted (0: heartbeats not watched).',
      registers,
      collect() {
        this.set(source.status().heartbeat.timeout);
      },
    });
    new Counter({
      name: 'demotool_watchdog_heartbeats_total',
      help: 'Heartbeats received from the guest (HTTP and serial).',
      registers,
      collect() {
        const beats = source.status().guest.heartbeats;
        this.inc(Math.max(0, beats - heartbeatsSeen));
        heartbeatsSeen = Math.max(heartbeatsSeen, beats);
      },
    });
    new Gauge({
      name: 'demotool_watchdog_state',
      help: "The watchdog's state: 1 for the current one, 0 for the others.",
      labelNames: ['state'],
      registers,
      collect() {
        const state = source.status().state;
        for (const s of STATES) this.labels({ state: s }).set(s === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'demotool_watchdog_snapshot_exists',
      help: 'Whether the snapshot recoveries return to exists (1) or not (0).',
      registers,
      collect() {
        this.set(source.status().snapshot_exists ? 1 : 0);
      },
    });
    new Gauge({
      name: 'demotool_watchdog_auto_revert_enabled',
      help: 'Whether faults are recovered automatically (1) or only reported (0, maintenance).',
      registers,
      collect() {
        this.set(source.status().auto_revert_enabled ? 1 : 0);
      },
    });
    new Gauge({
      name: 'demotool_watchdog_start_time_seconds',
      help: 'When this watchdog started, in seconds since the epoch.',
      registers,
    }).set(startedAt / 1000);
    new Gauge({
      name: 'demotool_watchdog_uptime_seconds',
      help: 'Seconds since this watchdog started.',
      registers,
      collect() {
        this.set((Date.now() - startedAt) / 1000);
      },
    });
  }

  /** Count a finished recovery (successful or not). */
  revert(record: RevertRecord): void {
    const outcome = record.ok ? 'ok' : 'failed';
    this.reverts.labels({ reason: record.reason, method: record.method, outcome }).inc();
    this.durations.labels({ method: record.method, outcome }).observe(record.durationMs / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition: this watchdog's series, then the process's. */
  async text(): Promise<string> {
    // Concatenated, not Registry.merge(): a merged registry would drop this one's `vm` label.
    return (await this.registry.metrics()) + (await processMetrics().metrics());
  }
}
