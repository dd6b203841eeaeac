import { test, expect } from '@playwright/test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { createLogger } from '../../src/log.js';
import type { GuestMessage, GuestVia } from '../../src/watchdog/guest-messages.js';
import { ApiServers } from '../../src/watchdog/http/servers.js';
import type { WatchdogPort } from '../../src/watchdog/http/port.js';
import { WatchdogMetrics } from '../../src/watchdog/metrics.js';
import type { HeartbeatStatus, WatchdogState, WatchdogStatus } from '../../src/watchdog/status.js';
import type { RevertMethod, RevertReason, RevertRecord } from '../../src/watchdog/triggers.js';
import { Watchdog } from '../../src/watchdog/watchdog.js';
import { fakeDomain } from './support/fake-domain.js';
import { parseExposition, value, type Family } from '../e2e/support/prometheus-text.js';

test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

const TOKEN = 'metrics-token-0123456789abcdef';

/**
 * The watchdog as the routes and metrics see it, with the state each test sets. revert() counts
 * the record in the metrics as the real watchdog does when its coordinator reports a revert.
 */
class FakeWatchdog implements WatchdogPort {
  readonly vm: { name: string };
  readonly options = { snapshot: 'ready' };
  readonly metrics: WatchdogMetrics;
  state: WatchdogState = 'waiting';
  heartbeats = 0;
  ageSeconds = 0;
  autoRevert = true;
  nextRevert: { reason: RevertReason; method: RevertMethod; durationMs: number; ok: boolean } = {
    reason: 'manual',
    method: 'in-place',
    durationMs: 420,
    ok: true,
  };

  constructor(name: string) {
    this.vm = { name };
    this.metrics = new WatchdogMetrics(this);
  }

  heartbeatStatus(): HeartbeatStatus {
    return {
      enabled: true,
      timeout: 10,
      last_heartbeat: this.heartbeats ? 1_700_000_000 : null,
      time_since_heartbeat: this.ageSeconds,
      is_timed_out: false,
      has_received_heartbeat: this.heartbeats > 0,
    };
  }

  status(): WatchdogStatus {
    return {
      vm_name: this.vm.name,
      vm_state: 'running',
      vm_is_running: true,
      snapshot_name: 'ready',
      snapshot_exists: true,
      heartbeat: this.heartbeatStatus(),
      auto_revert_enabled: this.autoRevert,
      state: this.state,
      vm_state_reason: 'booted',
      idle: { enabled: false, timeout: 0, idle_seconds: 0 },
      reverts: 0,
      last_revert: null,
      guest: { http: null, serial: false, heartbeats: this.heartbeats },
    };
  }

  receive(message: GuestMessage, _via: GuestVia): { accepted: boolean; why?: string } {
    if (message.kind === 'heartbeat') {
      this.heartbeats++;
      this.ageSeconds = 0;
      this.state = 'healthy';
    }
    return { accepted: true };
  }

  async revert(detail?: string): Promise<RevertRecord> {
    const record: RevertRecord = { ...this.nextRevert, detail, startedAt: new Date().toISOString(), snapshot: 'ready' };
    this.metrics.revert(record);
    return record;
  }

  async start(): Promise<RevertRecord> {
    return this.revert('start');
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }

  setAutoRevert(on: boolean): void {
    this.autoRevert = on;
  }

  async snapshots(): Promise<string[]> {
    return ['ready'];
  }

  async createSnapshot(): Promise<void> {}

  async deleteSnapshot(): Promise<void> {}
}

// ---- the servers ----------------------------------------------------------------------------

const log = createLogger('test');
let dir: string;
const a = new FakeWatchdog('exhibit-a');
const b = new FakeWatchdog('exhibit-b');
let serversA: ApiServers;
let serversB: ApiServers;

async function scrape(servers: ApiServers): Promise<Map<string, Family>> {
  const res = await fetch(`${servers.controlUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

function guestGet(socketPath: string, url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: url }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'demotool-watchdog-metrics-'));
  serversA = await ApiServers.start({
    watchdog: a,
    metrics: a.metrics,
    guestSocket: path.join(dir, 'a.sock'),
    control: { host: '127.0.0.1', port: 0, token: TOKEN },
    log,
  });
  serversB = await ApiServers.start({ watchdog: b, metrics: b.metrics, control: { host: '127.0.0.1', port: 0 }, log });
});

test.afterAll(async () => {
  await serversA?.close();
  await serversB?.close();
  await rm(dir, { recursive: true, force: true });
});

test.describe.configure({ mode: 'serial' });

test('/metrics parses as Prometheus text, needs no token, and has every watchdog and process family', async () => {
  const families = await scrape(serversA);
  const want: Record<string, string> = {
    demotool_watchdog_heartbeat_age_seconds: 'gauge',
    demotool_watchdog_heartbeat_timeout_seconds: 'gauge',
    demotool_watchdog_heartbeats_total: 'counter',
    demotool_watchdog_reverts_total: 'counter',
    demotool_watchdog_revert_duration_seconds: 'histogram',
    demotool_watchdog_state: 'gauge',
    demotool_watchdog_snapshot_exists: 'gauge',
    demotool_watchdog_auto_revert_enabled: 'gauge',
    demotool_watchdog_start_time_seconds: 'gauge',
    demotool_watchdog_uptime_seconds: 'gauge',
    process_resident_memory_bytes: 'gauge',
    process_open_fds: 'gauge',
    process_start_time_seconds: 'gauge',
  };
  for (const [name, type] of Object.entries(want)) {
    expect(families.get(name)?.type, name).toBe(type);
    expect(families.get(name)?.help, name).not.toBe('');
  }
  // Every watchdog series names its VM; the process's describe the process, not a VM.
  for (const family of families.values())
    for (const sample of family.samples)
      if (family.name.startsWith('demotool_')) expect(sample.labels.vm, sample.name).toBe('exhibit-a');
      else expect(sample.labels.vm, sample.name).toBeUndefined();
  expect(value(families, 'process_open_fds')).toBeGreaterThan(0);
  expect(value(families, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
  expect(value(families, 'demotool_watchdog_auto_revert_enabled')).toBe(1);
  expect(value(families, 'demotool_watchdog_snapshot_exists')).toBe(1);
  expect(value(families, 'demotool_watchdog_uptime_seconds')).toBeGreaterThanOrEqual(0);
  expect(Math.abs(value(families, 'demotool_watchdog_start_time_seconds')! - Date.now() / 1000)).toBeLessThan(60);
  // Every reason's counter is there at 0 before any revert, so rate() sees the first one.
  expect(value(families, 'demotool_watchdog_reverts_total', { reason: 'heartbeat-timeout', method: 'restart', outcome: 'failed' })).toBe(0);
});

test('the parser refuses what is not the text format', () => {
  expect(() => parseExposition('# TYPE x gauge\nx 1\n')).not.toThrow();
  for (const bad of [
    'x{a="1"} one\n',
    '# TYPE x gauge\nx{a=1} 1\n',
    '# TYPE x gauge\ny 1\n',
    '# TYPE x gauge\nx{a="1",a="2"} 1\n',
    '# TYPE x sometype\n',
    'x 1',
  ])
    expect(() => parseExposition(bad), bad).toThrow();
});

test('the heartbeat age is absent before the first beat, then follows the beats', async () => {
  expect(value(await scrape(serversA), 'demotool_watchdog_heartbeat_age_seconds')).toBeUndefined();
  const res = await fetch(`${serversA.controlUrl}/api/v1/heartbeat`, { method: 'POST' });
  expect(res.status).toBe(200);
  let families = await scrape(serversA);
  expect(value(families, 'demotool_watchdog_heartbeat_age_seconds')).toBe(0);
  expect(value(families, 'demotool_watchdog_heartbeats_total')).toBe(1);
  a.ageSeconds = 7.5;
  expect(value(await scrape(serversA), 'demotool_watchdog_heartbeat_age_seconds')).toBe(7.5);
  // A heartbeat over the guest's socket resets it.
  expect((await guestGet(path.join(dir, 'a.sock'), '/api/v1/heartbeat')).status).toBe(200);
  families = await scrape(serversA);
  expect(value(families, 'demotool_watchdog_heartbeat_age_seconds')).toBe(0);
  expect(value(families, 'demotool_watchdog_heartbeats_total')).toBe(2);
});

test('the state gauge has one series per state, exactly one of them 1, and flips', async () => {
  const ones = (families: Map<string, Family>) =>
    families
      .get('demotool_watchdog_state')!
      .samples.filter((s) => s.value === 1)
      .map((s) => s.labels.state);
  a.state = 'healthy';
  let families = await scrape(serversA);
  expect(families.get('demotool_watchdog_state')!.samples.map((s) => s.labels.state)).toEqual(
    expect.arrayContaining(['waiting', 'healthy', 'timed-out', 'paused', 'watching', 'reverting', 'stopped', 'failed', 'closed']),
  );
  expect(families.get('demotool_watchdog_state')!.samples).toHaveLength(9);
  expect(ones(families)).toEqual(['healthy']);
  a.state = 'failed';
  families = await scrape(serversA);
  expect(ones(families)).toEqual(['failed']);
  expect(value(families, 'demotool_watchdog_state', { state: 'healthy' })).toBe(0);
});

test('a revert adds one to its reason, method and outcome, and one duration to the histogram', async () => {
  const before = await scrape(serversA);
  const manualOk = { reason: 'manual', method: 'in-place', outcome: 'ok' };
  const count = (f: Map<string, Family>, labels: Record<string, string>) => value(f, 'demotool_watchdog_revert_duration_seconds_count', labels);
  const res = await fetch(`${serversA.controlUrl}/api/v1/vm/restart`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const after = await scrape(serversA);
  expect(value(after, 'demotool_watchdog_reverts_total', manualOk)).toBe(value(before, 'demotool_watchdog_reverts_total', manualOk)! + 1);
  expect(count(after, { method: 'in-place', outcome: 'ok' })).toBe((count(before, { method: 'in-place', outcome: 'ok' }) ?? 0) + 1);
  expect(value(after, 'demotool_watchdog_revert_duration_seconds_sum', { method: 'in-place', outcome: 'ok' })).toBeCloseTo(0.42);
  // 0.42 s: in the 0.5 s bucket, not the 0.25 s one.
  expect(value(after, 'demotool_watchdog_revert_duration_seconds_bucket', { method: 'in-place', outcome: 'ok', le: '0.25' })).toBe(0);
  expect(value(after, 'demotool_watchdog_revert_duration_seconds_bucket', { method: 'in-place', outcome: 'ok', le: '0.5' })).toBe(1);

  // A failed restart after a heartbeat timeout: its own series, its own bucket.
  a.nextRevert = { reason: 'heartbeat-timeout', method: 'restart', durationMs: 95_000, ok: false };
  await a.revert('test');
  const failed = await scrape(serversA);
  expect(value(failed, 'demotool_watchdog_reverts_total', { reason: 'heartbeat-timeout', method: 'restart', outcome: 'failed' })).toBe(1);
  expect(value(failed, 'demotool_watchdog_reverts_total', manualOk)).toBe(value(after, 'demotool_watchdog_reverts_total', manualOk));
  expect(value(failed, 'demotool_watchdog_revert_duration_seconds_bucket', { method: 'restart', outcome: 'failed', le: '60' })).toBe(0);
  expect(value(failed, 'demotool_watchdog_revert_duration_seconds_bucket', { method: 'restart', outcome: 'failed', le: '120' })).toBe(1);
});

test('two watchdogs in one process keep their own series', async () => {
  await b.revert('b only');
  const [fa, fb] = [await scrape(serversA), await scrape(serversB)];
  const manualOk = { reason: 'manual', method: 'in-place', outcome: 'ok' };
  expect(value(fb, 'demotool_watchdog_reverts_total', manualOk)).toBe(1);
  expect(value(fa, 'demotool_watchdog_reverts_total', manualOk)).toBe(1);
  expect(value(fb, 'demotool_watchdog_reverts_total', { reason: 'heartbeat-timeout', method: 'restart', outcome: 'failed' })).toBe(0);
  expect(value(fb, 'demotool_watchdog_state', { state: 'waiting' })).toBe(1);
  expect(value(fa, 'demotool_watchdog_state', { state: 'failed' })).toBe(1);
  expect(value(fb, 'demotool_watchdog_heartbeat_age_seconds')).toBeUndefined();
  for (const sample of fb.get('demotool_watchdog_reverts_total')!.samples) expect(sample.labels.vm).toBe('exhibit-b');
  // A third one for the same VM name does not clash either: its registry is its own.
  const c = new FakeWatchdog('exhibit-b');
  const fc = parseExposition(await c.metrics.text());
  expect(value(fc, 'demotool_watchdog_reverts_total', manualOk)).toBe(0);
});

test('the guest listener has no /metrics', async () => {
  const res = await guestGet(path.join(dir, 'a.sock'), '/metrics');
  expect(res.status).toBe(404);
  expect(res.text).not.toContain('demotool_watchdog');
});

test('/metrics is in the OpenAPI document, as text/plain', async () => {
  const doc = (await (await fetch(`${serversA.controlUrl}/openapi.json`)).json()) as {
    paths: Record<string, { get?: { responses?: Record<string, { content?: Record<string, unknown> }> } }>;
  };
  expect(Object.keys(doc.paths['/metrics']?.get?.responses?.['200']?.content ?? {})).toEqual(['text/plain']);
});

// ---- the real watchdog's hooks --------------------------------------------------------------

test('a real watchdog feeds its metrics: state, heartbeat age, and its reverts', async () => {
  const { domain, loadvms } = fakeDomain();
  const watchdog = await Watchdog.start(
    { name: 'exhibit-real', domain, channels: {} },
    { takeSnapshot: 'never', heartbeatTimeout: 60_000, idleTimeout: 0 },
    createLogger('test'),
  );
  try {
    const get = async () => {
      const res = await fetch(`${watchdog.url}/metrics`);
      expect(res.status).toBe(200);
      return parseExposition(await res.text());
    };
    let families = await get();
    expect(value(families, 'demotool_watchdog_state', { state: 'waiting', vm: 'exhibit-real' })).toBe(1);
    expect(value(families, 'demotool_watchdog_heartbeat_age_seconds')).toBeUndefined();
    expect(value(families, 'demotool_watchdog_heartbeat_timeout_seconds')).toBe(60);

    watchdog.receive({ kind: 'heartbeat' }, 'serial');
    families = await get();
    expect(value(families, 'demotool_watchdog_state', { state: 'healthy' })).toBe(1);
    expect(value(families, 'demotool_watchdog_state', { state: 'waiting' })).toBe(0);
    expect(value(families, 'demotool_watchdog_heartbeat_age_seconds')).toBeLessThan(1);
    expect(value(families, 'demotool_watchdog_heartbeats_total')).toBe(1);

    const record = await watchdog.revert('from the test');
    expect(loadvms).toEqual(['loadvm ready']);
    families = await get();
    expect(value(families, 'demotool_watchdog_reverts_total', { reason: 'manual', method: record.method, outcome: 'ok' })).toBe(1);
    expect(value(families, 'demotool_watchdog_revert_duration_seconds_count', { method: record.method, outcome: 'ok' })).toBe(1);
    expect(value(families, 'demotool_watchdog_revert_duration_seconds_sum', { method: record.method, outcome: 'ok' })).toBeCloseTo(record.durationMs / 1000);

    watchdog.setAutoRevert(false);
    expect(value(await get(), 'demotool_watchdog_auto_revert_enabled')).toBe(0);
  } finally {
    await watchdog.close();
  }
});

// ---- the example Prometheus files ------------------------------------------------------------

const EXAMPLES = fileURLToPath(new URL('../../examples/prometheus/', import.meta.url));

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutGroupings = withoutStrings.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const withoutMatchers = withoutGroupings.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  return [...withoutMatchers.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(?)/g)]
    .filter(([, , call]) => !call)
    .map(([, name = '']) => name)
    .filter((name) => !['and', 'or', 'unless', 'bool', 'offset'].includes(name));
}

test('the alert rules use only metrics and label values that /metrics exports', async () => {
  // A watchdog that has seen a heartbeat exports every series the rules may use.
  a.receive({ kind: 'heartbeat' }, 'http');
  const families = await scrape(serversA);
  const exported = new Set<string>(['up']);
  for (const family of families.values()) for (const sample of family.samples) exported.add(sample.name);
  const rules = parseYaml(await readFile(path.join(EXAMPLES, 'alerts.yml'), 'utf8')) as {
    groups: { name: string; rules: { alert: string; expr: string; labels?: Record<string, string> }[] }[];
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  expect(alerts.map((r) => r.alert)).toEqual(expect.arrayContaining(['ExhibitHeartbeatStale', 'ExhibitFailed', 'ExhibitRevertingOften']));
  for (const rule of alerts) {
    const names = metricNames(rule.expr);
    expect(names.length, rule.alert).toBeGreaterThan(0);
    for (const name of names) expect(exported.has(name), `${rule.alert} uses ${name}`).toBe(true);
    // Label matchers name labels and values the series really have.
    for (const [, metric = '', matchers = ''] of rule.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
      if (metric === 'up') continue;
      for (const [, label = '', wanted = ''] of matchers.matchAll(/(\w+)="([^"]*)"/g)) {
        const samples = [...families.values()].flatMap((f) => f.samples).filter((s) => s.name === metric);
        expect(
          samples.some((s) => s.labels[label] === wanted),
          `${rule.alert}: ${metric}{${label}="${wanted}"}`,
        ).toBe(true);
      }
    }
    expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning|info)$/);
  }
  // The checker itself: a renamed metric would be caught.
  expect(metricNames('sum by (vm) (increase(demotool_watchdog_reverts_total{outcome="failed"}[1h])) > 0')).toEqual(['demotool_watchdog_reverts_total']);
});

test('the scrape config scrapes /metrics from host:port targets and loads the alert rules', async () => {
  const config = parseYaml(await readFile(path.join(EXAMPLES, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };
  expect(config.rule_files).toContain('alerts.yml');
  const job = config.scrape_configs.find((j) => j.job_name === 'demotool-exhibit');
  expect(job?.metrics_path).toBe('/metrics');
  const targets = job!.static_configs.flatMap((s) => s.targets);
  expect(targets.length).toBeGreaterThan(1);
  for (const target of targets) expect(target).toMatch(/^[a-z0-9.-]+:\d+$/);
  // The alert rules select this job by name.
  expect(await readFile(path.join(EXAMPLES, 'alerts.yml'), 'utf8')).toContain(`job="${job!.job_name}"`);
});
