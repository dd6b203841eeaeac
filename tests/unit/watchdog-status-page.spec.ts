import { test, expect } from '@playwright/test';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { PNG } from 'pngjs';
import { createLogger } from '../../src/log.js';
import { ApiServers } from '../../src/watchdog/http/servers.js';
import type { WatchdogPort } from '../../src/watchdog/http/port.js';
import type { HeartbeatStatus, WatchdogState, WatchdogStatus } from '../../src/watchdog/status.js';
import type { RevertRecord } from '../../src/watchdog/triggers.js';

// Quiet in this worker only (see watchdog-api.spec.ts).
test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

const TOKEN = 'test-token-0123456789abcdef';

/** A small real PNG: what a screen mirror returns. */
function png(width = 4, height = 3): Buffer {
  const image = new PNG({ width, height });
  image.data.fill(200);
  return PNG.sync.write(image);
}

/** The watchdog as the page's routes see it: events, a history and a screen, and no logic. */
class FakeWatchdog extends EventEmitter implements WatchdogPort {
  readonly vm: { name: string; screenshot?: () => Promise<Buffer> } = { name: 'demo-artwork-abc123' };
  readonly options = { snapshot: 'ready' };
  state: WatchdogState = 'healthy';
  reverts: RevertRecord[] = [];
  shots = 0;

  heartbeatStatus(): HeartbeatStatus {
    return { enabled: true, timeout: 10, last_heartbeat: 1_700_000_000, time_since_heartbeat: 0.5, is_timed_out: false, has_received_heartbeat: true };
  }
  status(): WatchdogStatus {
    return {
      vm_name: this.vm.name,
      vm_state: 'running',
      vm_is_running: true,
      snapshot_name: 'ready',
      snapshot_exists: true,
      heartbeat: this.heartbeatStatus(),
      auto_revert_enabled: true,
      state: this.state,
      vm_state_reason: 'booted',
      idle: { enabled: false, timeout: 0, idle_seconds: 0 },
      reverts: this.reverts.length,
      last_revert: null,
      guest: { http: null, serial: true, heartbeats: 3 },
    };
  }
  receive(): { accepted: boolean } {
    return { accepted: true };
  }
  async revert(): Promise<RevertRecord> {
    const done = record(this.reverts.length);
    this.reverts.push(done);
    return done;
  }
  async start(): Promise<RevertRecord> {
    throw new Error('not in these tests');
  }
  async stop(): Promise<void> {}
  setAutoRevert(): void {}
  async snapshots(): Promise<string[]> {
    return ['ready'];
  }
  async createSnapshot(): Promise<void> {}
  async deleteSnapshot(): Promise<void> {}
}

function record(i: number): RevertRecord {
  return {
    reason: i % 2 ? 'heartbeat-timeout' : 'manual',
    detail: `revert number ${i}`,
    startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    durationMs: 800 + i,
    method: 'in-place',
    snapshot: 'ready',
    ok: i !== 3,
    error: i === 3 ? 'loadvm failed' : undefined,
    screenBefore: png(),
    screenAfter: png(),
    recoveredAt: i === 3 ? undefined : new Date(Date.UTC(2025, 0, 1, 0, 1, i)).toISOString(),
  };
}

/** One open event stream: its `status` events as they arrive, and its comments. */
class Stream {
  readonly statuses: WatchdogStatus[] = [];
  /** The `reverts` events' counts. */
  readonly histories: number[] = [];
  comments = 0;
  ended = false;
  private buffer = '';
  private constructor(
    readonly req: http.ClientRequest,
    readonly res: http.IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.take(chunk));
    res.on('end', () => (this.ended = true));
    res.on('close', () => (this.ended = true));
  }

  static open(base: string): Promise<Stream> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${base}/api/v1/events`, (res) => resolve(new Stream(req, res)));
      req.on('error', reject);
    });
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (block.startsWith(':')) this.comments++;
      const data = /^event: status\ndata: (.*)$/m.exec(block);
      if (data) this.statuses.push(JSON.parse(data[1]!) as WatchdogStatus);
      const history = /^event: reverts\ndata: (.*)$/m.exec(block);
      if (history) this.histories.push((JSON.parse(history[1]!) as { reverts: number }).reverts);
    }
  }

  async next(count = this.statuses.length + 1, timeout = 3_000): Promise<WatchdogStatus> {
    await expect.poll(() => this.statuses.length, { timeout, intervals: [10] }).toBeGreaterThanOrEqual(count);
    return this.statuses[count - 1]!;
  }

  close(): void {
    this.req.destroy();
  }
}

const log = createLogger('test');
let fake: FakeWatchdog;
let servers: ApiServers;
let base: string;

test.beforeEach(async () => {
  fake = new FakeWatchdog();
  servers = await ApiServers.start({ watchdog: fake, control: { host: '127.0.0.1', port: 0, token: TOKEN }, log });
  base = servers.controlUrl!;
});

test.afterEach(async () => {
  await servers.close();
});

test('GET / is the status page, without the token, self-contained', async () => {
  const res = await fetch(`${base}/`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  const html = await res.text();
  expect(html).toMatch(/^<!doctype html>/);
  for (const text of ['>Start<', '>Stop<', '>Revert now<', '>Take snapshot<', '>Auto-revert on<', '>Auto-revert off<', 'Control token', 'role="status"'])
    expect(html).toContain(text);
  // Nothing from elsewhere: an exhibition host has no internet.
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  expect(html).not.toMatch(/https?:\/\//);
});

test('the event stream sends the status at once, on every watchdog event, and every second', async () => {
  const stream = await Stream.open(base);
  expect(stream.res.statusCode).toBe(200);
  expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  const first = await stream.next(1, 500);
  expect(first.vm_name).toBe('demo-artwork-abc123');
  expect(first.state).toBe('healthy');

  // A change is sent when it happens, not at the next tick.
  fake.state = 'timed-out';
  const emitted = performance.now();
  fake.emit('state', 'timed-out');
  await expect.poll(() => stream.statuses.at(-1)?.state, { timeout: 300, intervals: [5] }).toBe('timed-out');
  expect(performance.now() - emitted).toBeLessThan(300);

  // Several events at once: one status, not one each.
  const before = stream.statuses.length;
  for (let i = 0; i < 20; i++) fake.emit('heartbeat', 'serial');
  await new Promise((r) => setTimeout(r, 50));
  expect(stream.statuses.length - before).toBeLessThanOrEqual(2);

  // Nothing happens: still a status (and a ping) every second, as the heartbeat age grows.
  const quiet = stream.statuses.length;
  await new Promise((r) => setTimeout(r, 2_300));
  expect(stream.statuses.length - quiet).toBeGreaterThanOrEqual(2);
  expect(stream.comments).toBeGreaterThanOrEqual(2);
  stream.close();
});

test("revert, recovered and heartbeat events are sent too; a revert or a recovery also sends 'reverts' (the history changed)", async () => {
  const stream = await Stream.open(base);
  await stream.next(1);
  for (const event of ['revert', 'recovered', 'heartbeat'] as const) {
    const seen = stream.statuses.length;
    fake.reverts.push(record(fake.reverts.length));
    fake.emit(event);
    await expect.poll(() => stream.statuses.at(-1)?.reverts, { timeout: 300, intervals: [5] }).toBe(fake.reverts.length);
    expect(stream.statuses.length).toBeGreaterThan(seen);
  }
  await new Promise((r) => setTimeout(r, 50));
  // The third was a heartbeat: the history did not change.
  expect(stream.histories).toEqual([1, 2]);
  stream.close();
});

test('50 streams opened and closed leave no listener behind', async () => {
  const events = ['state', 'heartbeat', 'revert', 'recovered'] as const;
  const start = events.map((e) => fake.listenerCount(e));
  for (let i = 0; i < 50; i++) {
    const stream = await Stream.open(base);
    await stream.next(1);
    if (i === 0) expect(fake.listenerCount('state')).toBe(start[0]! + 1);
    stream.close();
  }
  // Ten at once, closed together.
  const many = await Promise.all(Array.from({ length: 10 }, () => Stream.open(base)));
  await Promise.all(many.map((s) => s.next(1)));
  expect(fake.listenerCount('state')).toBe(start[0]! + 10);
  many.forEach((s) => s.close());
  await expect.poll(() => events.map((e) => fake.listenerCount(e)), { timeout: 2_000 }).toEqual(start);
});

test('closing the server ends open streams at once and removes their listeners', async () => {
  const streams = await Promise.all(Array.from({ length: 5 }, () => Stream.open(base)));
  await Promise.all(streams.map((s) => s.next(1)));
  expect(fake.listenerCount('state')).toBe(5);
  const t0 = performance.now();
  await servers.close();
  expect(performance.now() - t0).toBeLessThan(1_000);
  expect(fake.listenerCount('state')).toBe(0);
  expect(fake.listenerCount('heartbeat')).toBe(0);
  await expect.poll(() => streams.every((s) => s.ended), { timeout: 1_000 }).toBe(true);
  // afterEach closes again: that must be harmless.
});

test('GET /api/v1/reverts: newest first, the last 100, never the screens, without the token', async () => {
  const empty = await (await fetch(`${base}/api/v1/reverts`)).json();
  expect(empty).toEqual({ vm_name: 'demo-artwork-abc123', total: 0, reverts: [] });

  fake.reverts = Array.from({ length: 120 }, (_, i) => record(i));
  const res = await fetch(`${base}/api/v1/reverts`);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).not.toMatch(/screen|"type":"Buffer"|iVBOR/);
  const list = JSON.parse(text) as { total: number; reverts: Record<string, unknown>[] };
  expect(list.total).toBe(120);
  expect(list.reverts).toHaveLength(100);
  expect(list.reverts[0]!.detail).toBe('revert number 119');
  expect(list.reverts[99]!.detail).toBe('revert number 20');

  fake.reverts = [record(2), record(3)];
  const two = (await (await fetch(`${base}/api/v1/reverts`)).json()) as { reverts: Record<string, unknown>[] };
  expect(two.reverts).toEqual([
    {
      reason: 'heartbeat-timeout',
      detail: 'revert number 3',
      method: 'in-place',
      snapshot: 'ready',
      started_at: '2025-01-01T00:00:03.000Z',
      duration_ms: 803,
      ok: false,
      error: 'loadvm failed',
    },
    {
      reason: 'manual',
      detail: 'revert number 2',
      method: 'in-place',
      snapshot: 'ready',
      started_at: '2025-01-01T00:00:02.000Z',
      duration_ms: 802,
      ok: true,
      recovered_at: '2025-01-01T00:01:02.000Z',
    },
  ]);
});

test('GET /api/v1/screen.png: 404 with a detail when the VM has no screen', async () => {
  const res = await fetch(`${base}/api/v1/screen.png`);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ detail: "VM 'demo-artwork-abc123' has no screen to show", code: 'ENOSCREEN' });
});

test('GET /api/v1/screen.png: the PNG, without the token; pages asking at once share one screenshot', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  fake.vm.screenshot = async () => {
    fake.shots++;
    await gate;
    return png(8, 6);
  };
  const answers = Array.from({ length: 5 }, () => fetch(`${base}/api/v1/screen.png`));
  await expect.poll(() => fake.shots).toBe(1);
  await new Promise((r) => setTimeout(r, 100));
  release();
  for (const res of await Promise.all(answers)) {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const image = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    expect([image.width, image.height]).toEqual([8, 6]);
  }
  expect(fake.shots).toBe(1);
  // The next request takes a new one.
  expect((await fetch(`${base}/api/v1/screen.png`)).status).toBe(200);
  expect(fake.shots).toBe(2);
});

test('GET /api/v1/screen.png: a screen that fails is a 503 with the reason, and the next one is tried again', async () => {
  fake.vm.screenshot = async () => {
    fake.shots++;
    throw new Error('VNC is reconnecting\nmore lines');
  };
  const res = await fetch(`${base}/api/v1/screen.png`);
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ detail: "the screen can't be read now: VNC is reconnecting", code: 'ESCREEN' });
  expect((await fetch(`${base}/api/v1/screen.png`)).status).toBe(503);
  expect(fake.shots).toBe(2);
});

test('the new reads are in the OpenAPI document; the actions the page calls still need the token', async () => {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/events', '/api/v1/screen.png', '/api/v1/reverts']));
  expect((await fetch(`${base}/api/v1/vm/restart`, { method: 'POST' })).status).toBe(401);
  expect((await fetch(`${base}/api/v1/reverts`, { method: 'POST' })).status).toBe(401);
  expect((await fetch(`${base}/api/v1/events`, { method: 'HEAD' })).status).toBe(401);
});

test('actions asked for by another web site are refused, token or not; the page itself and plain clients are served', async () => {
  const open = await ApiServers.start({ watchdog: fake, control: { host: '127.0.0.1', port: 0 }, log });
  try {
    const url = `${open.controlUrl}/api/v1/vm/restart`;
    const before = fake.reverts.length;
    // What a browser sends for an <img> or a form on another site: no token needed here, and still refused.
    const img = await fetch(url, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(img.status).toBe(403);
    expect(((await img.json()) as { code: string }).code).toBe('ECROSSSITE');
    expect((await fetch(url, { method: 'POST', headers: { origin: 'http://example.invalid' } })).status).toBe(403);
    expect(fake.reverts.length).toBe(before);
    // Reads stay open to any site; the status page's own requests and curl-like clients act.
    expect((await fetch(`${open.controlUrl}/api/v1/status`, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
    expect((await fetch(url, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', origin: open.controlUrl! } })).status).toBe(200);
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    expect(fake.reverts.length).toBe(before + 2);
  } finally {
    await open.close();
  }
  // With a token, the token does not make a cross-site request acceptable.
  const withToken = await fetch(`${base}/api/v1/vm/restart`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'sec-fetch-site': 'cross-site' } });
  expect(withToken.status).toBe(403);
});
