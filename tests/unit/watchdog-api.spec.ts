import { test, expect } from '@playwright/test';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.js';
import { WatchdogError } from '../../src/watchdog/errors.js';
import type { GuestMessage, GuestVia } from '../../src/watchdog/guest-messages.js';
import { ApiServers } from '../../src/watchdog/http/servers.js';
import type { WatchdogPort } from '../../src/watchdog/http/port.js';
import type { HeartbeatStatus, WatchdogStatus } from '../../src/watchdog/status.js';
import type { RevertRecord } from '../../src/watchdog/triggers.js';

// Quiet in this worker only: a top-level env change would run in Playwright's runner while it
// collects tests, and reach every worker and child process after it.
test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

const TOKEN = 'test-token-0123456789abcdef';
const ORIGINAL_KEYS = ['vm_name', 'vm_state', 'vm_is_running', 'snapshot_name', 'snapshot_exists', 'heartbeat', 'auto_revert_enabled'];
const OWN_KEYS = ['state', 'vm_state_reason', 'idle', 'reverts', 'last_revert', 'guest'];
const HEARTBEAT_KEYS = ['enabled', 'timeout', 'last_heartbeat', 'time_since_heartbeat', 'is_timed_out', 'has_received_heartbeat'];

/** The watchdog as the routes see it: records every call, holds no logic. */
class FakeWatchdog implements WatchdogPort {
  readonly vm = { name: 'demo-vm-1' };
  readonly options = { snapshot: 'ready' };
  calls: string[] = [];
  messages: { message: GuestMessage; via: GuestVia }[] = [];
  heartbeats = 0;
  autoRevert: boolean[] = [];
  created: string[] = [];
  deleted: string[] = [];
  /** What receive() answers to revert requests. */
  answer: { accepted: boolean; why?: string } = { accepted: true };
  readonly record: RevertRecord = {
    reason: 'manual',
    detail: 'control API',
    startedAt: '2025-01-02T03:04:05.000Z',
    durationMs: 420,
    method: 'in-place',
    snapshot: 'ready',
    ok: true,
  };

  reset(): void {
    this.calls = [];
    this.messages = [];
    this.heartbeats = 0;
    this.autoRevert = [];
    this.created = [];
    this.deleted = [];
    this.answer = { accepted: true };
  }

  heartbeatStatus(): HeartbeatStatus {
    // Keys deliberately out of order: the response schema puts them in place.
    return {
      has_received_heartbeat: this.heartbeats > 0,
      is_timed_out: false,
      time_since_heartbeat: 1.5,
      last_heartbeat: 1_700_000_000.25,
      timeout: 10,
      enabled: true,
    };
  }

  status(): WatchdogStatus {
    this.calls.push('status');
    // Keys deliberately out of order, with demotool's own first.
    return {
      guest: { http: 'http://192.168.122.1:8000', serial: false, heartbeats: this.heartbeats },
      last_revert: null,
      reverts: 0,
      idle: { enabled: true, timeout: 720, idle_seconds: 3 },
      vm_state_reason: 'booted',
      state: 'healthy',
      auto_revert_enabled: true,
      heartbeat: this.heartbeatStatus(),
      snapshot_exists: true,
      snapshot_name: 'ready',
      vm_is_running: true,
      vm_state: 'running',
      vm_name: this.vm.name,
    };
  }

  receive(message: GuestMessage, via: GuestVia): { accepted: boolean; why?: string } {
    this.messages.push({ message, via });
    if (message.kind === 'heartbeat') {
      this.heartbeats++;
      return { accepted: true };
    }
    return message.kind === 'revert-request' ? this.answer : { accepted: true };
  }

  async revert(detail?: string): Promise<RevertRecord> {
    this.calls.push(`revert:${detail}`);
    return this.record;
  }

  async start(): Promise<RevertRecord> {
    this.calls.push('start');
    return { ...this.record, detail: 'operator start' };
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
  }

  setAutoRevert(on: boolean): void {
    this.calls.push(`autoRevert:${on}`);
    this.autoRevert.push(on);
  }

  async snapshots(): Promise<string[]> {
    this.calls.push('snapshots');
    return ['ready'];
  }

  async createSnapshot(name?: string): Promise<void> {
    this.calls.push(`create:${name}`);
    this.created.push(name ?? '');
  }

  async deleteSnapshot(name: string): Promise<void> {
    this.calls.push(`delete:${name}`);
    if (name !== 'ready') throw new WatchdogError('ENOSNAPSHOT', `no snapshot named ${JSON.stringify(name)}`, 'list them with GET /api/v1/snapshots');
    this.deleted.push(name);
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read arbitrary fields of the answers
  json: any;
}

/** One request over the guest's unix socket. */
function guestRequest(socketPath: string, method: string, url: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: url, method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const fake = new FakeWatchdog();
const log = createLogger('test');
let dir: string;
let socket: string;
let servers: ApiServers;
let base: string;

/** One request to the control listener (127.0.0.1 only). */
async function control(method: string, url: string, options: { body?: string; headers?: Record<string, string>; token?: boolean } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${TOKEN}`;
  const res = await fetch(base + url, { method, headers, body: options.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json };
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'demotool-watchdog-api-'));
  socket = path.join(dir, 'guest.sock');
  servers = await ApiServers.start({ watchdog: fake, guestSocket: socket, control: { host: '127.0.0.1', port: 0, token: TOKEN }, log });
  expect(servers.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  base = servers.controlUrl!;
});

test.afterAll(async () => {
  await servers?.close();
  await rm(dir, { recursive: true, force: true });
});

test.beforeEach(() => fake.reset());

test.describe('status reads', () => {
  test("status has the original controller keys first, then demotool's own", async () => {
    const res = await control('GET', '/api/v1/status');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(Object.keys(res.json)).toEqual([...ORIGINAL_KEYS, ...OWN_KEYS]);
    expect(Object.keys(res.json.heartbeat)).toEqual(HEARTBEAT_KEYS);
    expect(res.json).toMatchObject({
      vm_name: 'demo-vm-1',
      vm_state: 'running',
      vm_is_running: true,
      snapshot_name: 'ready',
      snapshot_exists: true,
      auto_revert_enabled: true,
      state: 'healthy',
      vm_state_reason: 'booted',
      reverts: 0,
      last_revert: null,
      idle: { enabled: true, timeout: 720, idle_seconds: 3 },
      guest: { http: 'http://192.168.122.1:8000', serial: false, heartbeats: 0 },
    });
    expect(res.json.heartbeat).toEqual({
      enabled: true,
      timeout: 10,
      last_heartbeat: 1_700_000_000.25,
      time_since_heartbeat: 1.5,
      is_timed_out: false,
      has_received_heartbeat: false,
    });
    expect(fake.calls).toEqual(['status']);
  });

  test('status, heartbeat status, snapshots and the OpenAPI document need no token', async () => {
    expect((await control('GET', '/api/v1/status')).status).toBe(200);

    const hb = await control('GET', '/api/v1/heartbeat/status');
    expect(hb.status).toBe(200);
    expect(Object.keys(hb.json)).toEqual(HEARTBEAT_KEYS);

    const snaps = await control('GET', '/api/v1/snapshots');
    expect(snaps.status).toBe(200);
    expect(snaps.json).toEqual({ vm_name: 'demo-vm-1', snapshots: ['ready'] });

    const doc = await control('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/api/v1/status', '/api/v1/heartbeat', '/api/v1/vm/restart', '/api/v1/revert/request']),
    );
    expect(doc.json.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });

    const hbPost = await control('POST', '/api/v1/heartbeat');
    expect(hbPost.status).toBe(200);
    expect(fake.heartbeats).toBe(1);
    expect(fake.calls).toEqual(['status', 'snapshots']);
  });
});

test.describe('control actions and the token', () => {
  const actions: [string, string][] = [
    ['/api/v1/vm/start', 'start'],
    ['/api/v1/vm/stop', 'stop'],
    ['/api/v1/vm/restart', 'revert:control API'],
    ['/api/v1/revert/enable', 'autoRevert:true'],
    ['/api/v1/revert/disable', 'autoRevert:false'],
    ['/api/v1/snapshot/create', 'create:ready'],
    ['/api/v1/snapshot/delete/ready', 'delete:ready'],
  ];

  for (const [url, call] of actions) {
    test(`${url}: 401 without the token (nothing called), 200 with it, GET and POST`, async () => {
      for (const method of ['GET', 'POST']) {
        if (method === 'POST' && url.includes('/delete/')) continue; // the original has GET and DELETE there
        fake.reset();
        const denied = await control(method, url);
        expect(denied.status).toBe(401);
        expect(denied.headers['www-authenticate']).toBe('Bearer');
        expect(denied.json.code).toBe('EUNAUTHORIZED');
        const wrong = await control(method, url, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } });
        expect(wrong.status).toBe(401);
        const notBearer = await control(method, url, { headers: { authorization: TOKEN } });
        expect(notBearer.status).toBe(401);
        expect(fake.calls).toEqual([]);

        const ok = await control(method, url, { token: true });
        expect(ok.status).toBe(200);
        expect(typeof ok.json.message).toBe('string');
        expect(fake.calls).toEqual([call]);
      }
    });
  }

  test('answers carry the original messages', async () => {
    expect((await control('POST', '/api/v1/vm/start', { token: true })).json).toEqual({ message: "VM 'demo-vm-1' started successfully" });
    expect((await control('POST', '/api/v1/vm/stop', { token: true })).json).toEqual({ message: "VM 'demo-vm-1' stopped successfully" });
    expect((await control('GET', '/api/v1/vm/restart', { token: true })).json).toEqual({
      message: "VM 'demo-vm-1' restarted successfully",
      details: { method: 'in-place', duration_ms: 420 },
    });
    expect((await control('GET', '/api/v1/revert/enable', { token: true })).json).toEqual({ message: 'Automatic revert enabled' });
    expect((await control('POST', '/api/v1/revert/disable', { token: true })).json.message).toMatch(/^Automatic revert disabled/);
    expect(fake.autoRevert).toEqual([true, false]);
    expect((await control('POST', '/api/v1/snapshot/create?snapshot_name=base.2', { token: true })).json).toEqual({
      message: "Snapshot 'base.2' created successfully for VM 'demo-vm-1'",
    });
    expect(fake.created).toEqual(['base.2']);
    expect((await control('DELETE', '/api/v1/snapshot/ready', { token: true })).json).toEqual({ message: "Snapshot 'ready' deleted successfully" });
    expect(fake.deleted).toEqual(['ready']);
  });

  test('the token is case-sensitive, the scheme is not', async () => {
    expect((await control('POST', '/api/v1/vm/stop', { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await control('POST', '/api/v1/vm/stop', { headers: { authorization: `Bearer ${TOKEN.toUpperCase()}` } })).status).toBe(401);
    expect(fake.calls).toEqual(['stop']);
  });

  test('no way around the token: HEAD, odd paths, absolute URLs', async () => {
    const port = Number(new URL(base).port);
    const raw = (method: string, url: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: url }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    const tries: [string, string][] = [
      ['HEAD', '/api/v1/vm/stop'],
      ['GET', '/api/v1/vm/stop/'],
      ['GET', '/api/v1/%76m/stop'],
      ['GET', '/API/V1/VM/STOP'],
      ['GET', '/api/v1/heartbeat/../vm/stop'],
      ['GET', '/api/v1/status/../vm/stop'],
      ['GET', '/docs/../api/v1/vm/stop'],
      ['GET', '/api/v1/vm/stop?/api/v1/status'],
      ['GET', '/api/v1/vm//stop'],
      ['GET', '/api/v1/heartbeat;/../vm/stop'],
      ['GET', `http://127.0.0.1:${port}/api/v1/vm/stop`],
      ['POST', '/api/v1/status'],
      ['GET', '/api/v1/snapshot/delete/ready%00'],
    ];
    for (const [method, url] of tries) expect([401, 404], `${method} ${url}`).toContain(await raw(method, url));
    expect(fake.calls).toEqual([]);
  });

  test('guest requests on the control listener need the token too (except heartbeats)', async () => {
    expect((await control('GET', '/api/v1/revert/request?reason=x')).status).toBe(401);
    expect((await control('GET', '/api/v1/idle/reset')).status).toBe(401);
    expect(fake.messages).toEqual([]);
    expect((await control('GET', '/api/v1/heartbeat')).status).toBe(200);
    expect(fake.messages).toEqual([{ message: { kind: 'heartbeat' }, via: 'http' }]);
  });
});

test.describe('guest messages', () => {
  test('heartbeat by GET and POST answers with the heartbeat status', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await control(method, '/api/v1/heartbeat');
      expect(res.status).toBe(200);
      expect(res.json.message).toBe('Heartbeat received');
      expect(Object.keys(res.json.details)).toEqual(expect.arrayContaining(HEARTBEAT_KEYS));
      expect(res.json.details.has_received_heartbeat).toBe(true);
    }
    expect(fake.heartbeats).toBe(2);
  });

  test('a revert request by POST JSON and by GET query reaches receive() with its reason', async () => {
    const post = await guestRequest(socket, 'POST', '/api/v1/revert/request', {
      body: JSON.stringify({ reason: 'viewer.exe is gone', severity: 'error' }),
      headers: JSON_HEADERS,
    });
    expect(post.status).toBe(200);
    expect(post.json).toEqual({ status: 'accepted', message: 'Revert queued', will_revert_in_seconds: 0 });

    const get = await guestRequest(socket, 'GET', '/api/v1/revert/request?reason=x');
    expect(get.status).toBe(200);

    const onControl = await control('GET', '/api/v1/revert/request?reason=from%20control&severity=warning', { token: true });
    expect(onControl.status).toBe(200);

    expect(fake.messages).toEqual([
      { message: { kind: 'revert-request', reason: 'viewer.exe is gone', severity: 'error' }, via: 'http' },
      { message: { kind: 'revert-request', reason: 'x', severity: undefined }, via: 'http' },
      { message: { kind: 'revert-request', reason: 'from control', severity: 'warning' }, via: 'http' },
    ]);
  });

  test('POST with an empty body or a form body is taken', async () => {
    const cases: { url: string; body?: string; headers?: Record<string, string> }[] = [
      { url: '/api/v1/revert/request' },
      { url: '/api/v1/revert/request', body: '', headers: JSON_HEADERS },
      { url: '/api/v1/revert/request', body: '  \n', headers: JSON_HEADERS },
      { url: '/api/v1/revert/request', body: 'reason=form+reason&severity=info', headers: FORM_HEADERS },
      { url: '/api/v1/revert/request', body: '', headers: FORM_HEADERS },
      { url: '/api/v1/idle/reset' },
      { url: '/api/v1/idle/reset', body: '', headers: JSON_HEADERS },
      { url: '/api/v1/idle/reset', body: 'idle_duration=7', headers: FORM_HEADERS },
      { url: '/api/v1/heartbeat', body: 'x=1', headers: FORM_HEADERS },
      { url: '/api/v1/heartbeat', body: '', headers: JSON_HEADERS },
    ];
    for (const c of cases) {
      const res = await guestRequest(socket, 'POST', c.url, { body: c.body, headers: c.headers });
      expect(res.status, `${c.url} ${JSON.stringify(c.body)} ${JSON.stringify(c.headers)}: ${res.text}`).toBe(200);
    }
    expect(fake.messages.map((m) => m.message)).toEqual([
      { kind: 'revert-request', reason: undefined, severity: undefined },
      { kind: 'revert-request', reason: undefined, severity: undefined },
      { kind: 'revert-request', reason: undefined, severity: undefined },
      { kind: 'revert-request', reason: 'form reason', severity: 'info' },
      { kind: 'revert-request', reason: undefined, severity: undefined },
      { kind: 'idle-reset', idleSeconds: undefined },
      { kind: 'idle-reset', idleSeconds: undefined },
      { kind: 'idle-reset', idleSeconds: 7 },
      { kind: 'heartbeat' },
      { kind: 'heartbeat' },
    ]);
  });

  test('idle reset by GET query and POST JSON carries the idle seconds', async () => {
    expect((await guestRequest(socket, 'GET', '/api/v1/idle/reset?idle_duration=12')).json).toEqual({ status: 'accepted', message: 'Idle reset triggered' });
    expect((await guestRequest(socket, 'POST', '/api/v1/idle/reset', { body: '{"idle_duration": 2.5}', headers: JSON_HEADERS })).status).toBe(200);
    expect((await guestRequest(socket, 'GET', '/api/v1/idle/reset')).status).toBe(200);
    expect(fake.messages.map((m) => m.message)).toEqual([
      { kind: 'idle-reset', idleSeconds: 12 },
      { kind: 'idle-reset', idleSeconds: 2.5 },
      { kind: 'idle-reset', idleSeconds: undefined },
    ]);
  });

  test('a refused revert request is a 429 with the reason', async () => {
    fake.answer = { accepted: false, why: 'the guest asked again within 10000 ms' };
    const res = await guestRequest(socket, 'GET', '/api/v1/revert/request?reason=again');
    expect(res.status).toBe(429);
    expect(res.json).toEqual({ detail: 'revert request refused: the guest asked again within 10000 ms', code: 'EREFUSED' });
    const restart = await guestRequest(socket, 'POST', '/api/v1/vm/restart');
    expect(restart.status).toBe(429);
    expect(restart.json.detail).toBe('restart refused: the guest asked again within 10000 ms');
  });

  test('the guest socket serves heartbeat, revert/request, idle/reset and vm/restart only', async () => {
    expect((await guestRequest(socket, 'GET', '/api/v1/heartbeat')).status).toBe(200);
    expect((await guestRequest(socket, 'POST', '/api/v1/heartbeat')).status).toBe(200);
    expect((await guestRequest(socket, 'GET', '/api/v1/revert/request?reason=r')).status).toBe(200);
    expect((await guestRequest(socket, 'GET', '/api/v1/idle/reset?idle_duration=0')).status).toBe(200);

    const restart = await guestRequest(socket, 'GET', '/api/v1/vm/restart');
    expect(restart.status).toBe(200);
    expect(restart.json).toEqual({ message: "VM 'demo-vm-1' restart requested" });
    expect((await guestRequest(socket, 'POST', '/api/v1/vm/restart')).status).toBe(200);

    // vm/restart from the guest is a revert request, never an operator's revert
    expect(fake.calls).toEqual([]);
    expect(fake.messages.map((m) => m.message.kind)).toEqual(['heartbeat', 'heartbeat', 'revert-request', 'idle-reset', 'revert-request', 'revert-request']);
    expect(fake.messages[4]!.message).toEqual({ kind: 'revert-request', reason: 'vm/restart called by the guest' });

    fake.reset();
    const closed: [string, string][] = [
      ['GET', '/api/v1/vm/stop'],
      ['POST', '/api/v1/vm/stop'],
      ['POST', '/api/v1/vm/start'],
      ['GET', '/api/v1/status'],
      ['GET', '/api/v1/heartbeat/status'],
      ['GET', '/api/v1/snapshots'],
      ['GET', '/api/v1/revert/disable'],
      ['GET', '/api/v1/revert/enable'],
      ['GET', '/api/v1/snapshot/create'],
      ['GET', '/api/v1/snapshot/delete/ready'],
      ['DELETE', '/api/v1/snapshot/ready'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
    ];
    for (const [method, url] of closed) {
      const res = await guestRequest(socket, method, url, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.json.code).toBe('ENOROUTE');
    }
    expect(fake.calls).toEqual([]);
  });
});

test.describe('bad input is a 4xx, never a 5xx', () => {
  const cases: { what: string; method: string; url: string; body?: string; headers?: Record<string, string>; status: number[] }[] = [
    { what: 'severity fatal (JSON)', method: 'POST', url: '/api/v1/revert/request', body: '{"severity":"fatal"}', headers: JSON_HEADERS, status: [400] },
    { what: 'severity fatal (query)', method: 'GET', url: '/api/v1/revert/request?severity=fatal', status: [400] },
    { what: 'severity fatal (form)', method: 'POST', url: '/api/v1/revert/request', body: 'severity=fatal', headers: FORM_HEADERS, status: [400] },
    { what: 'reason over 500 characters', method: 'GET', url: `/api/v1/revert/request?reason=${'r'.repeat(501)}`, status: [400] },
    { what: 'reason not a string', method: 'POST', url: '/api/v1/revert/request', body: '{"reason":{"a":1}}', headers: JSON_HEADERS, status: [400] },
    { what: 'a JSON array body', method: 'POST', url: '/api/v1/revert/request', body: '[]', headers: JSON_HEADERS, status: [400] },
    { what: 'idle_duration -5 (JSON)', method: 'POST', url: '/api/v1/idle/reset', body: '{"idle_duration":-5}', headers: JSON_HEADERS, status: [400] },
    { what: 'idle_duration -5 (query)', method: 'GET', url: '/api/v1/idle/reset?idle_duration=-5', status: [400] },
    { what: 'idle_duration not a number (query)', method: 'GET', url: '/api/v1/idle/reset?idle_duration=soon', status: [400] },
    { what: 'idle_duration not a number (form)', method: 'POST', url: '/api/v1/idle/reset', body: 'idle_duration=soon', headers: FORM_HEADERS, status: [400] },
    { what: 'idle_duration Infinity (form)', method: 'POST', url: '/api/v1/idle/reset', body: 'idle_duration=Infinity', headers: FORM_HEADERS, status: [400] },
    { what: 'invalid JSON', method: 'POST', url: '/api/v1/revert/request', body: '{"reason": ', headers: JSON_HEADERS, status: [400] },
    { what: 'invalid JSON to the heartbeat', method: 'POST', url: '/api/v1/heartbeat', body: '{nope', headers: JSON_HEADERS, status: [400] },
    {
      what: 'a body over 16 KiB',
      method: 'POST',
      url: '/api/v1/revert/request',
      body: JSON.stringify({ reason: 'x'.repeat(17 * 1024) }),
      headers: JSON_HEADERS,
      status: [413],
    },
    {
      what: 'a heartbeat body over 16 KiB',
      method: 'POST',
      url: '/api/v1/heartbeat',
      body: 'x'.repeat(16 * 1024 + 1),
      headers: { 'content-type': 'text/plain' },
      status: [413],
    },
    {
      what: 'an unknown content type',
      method: 'POST',
      url: '/api/v1/revert/request',
      body: 'x',
      headers: { 'content-type': 'application/x-evil' },
      status: [415],
    },
    { what: 'snapshot name --halt', method: 'GET', url: '/api/v1/snapshot/create?snapshot_name=--halt', status: [400] },
    { what: 'snapshot name with a space', method: 'POST', url: '/api/v1/snapshot/create?snapshot_name=a%20b', status: [400] },
    { what: 'snapshot name with a semicolon', method: 'GET', url: '/api/v1/snapshot/create?snapshot_name=a%3Bquit', status: [400] },
    { what: 'a path in the snapshot to delete', method: 'GET', url: '/api/v1/snapshot/delete/..%2F..%2Fetc', status: [400, 404] },
    { what: 'an option as the snapshot to delete', method: 'DELETE', url: '/api/v1/snapshot/--halt', status: [400] },
    { what: 'an unknown snapshot to delete', method: 'GET', url: '/api/v1/snapshot/delete/nope', status: [404] },
    { what: 'an unknown snapshot to DELETE', method: 'DELETE', url: '/api/v1/snapshot/nope', status: [404] },
    { what: 'an unknown route', method: 'GET', url: '/api/v1/nothing-here', status: [404] },
    { what: 'an unknown route (POST)', method: 'POST', url: '/api/v2/status', status: [404] },
    { what: 'a wrong method', method: 'DELETE', url: '/api/v1/status', status: [404] },
  ];
  for (const c of cases) {
    test(`${c.what} → ${c.status.join(' or ')}`, async () => {
      const res = await control(c.method, c.url, { body: c.body, headers: c.headers, token: true });
      expect(c.status, `${res.status} ${res.text}`).toContain(res.status);
      expect(typeof res.json.detail).toBe('string');
      expect(typeof res.json.code).toBe('string');
      // Nothing reached the watchdog, except a lookup of the unknown snapshot.
      expect(fake.messages).toEqual([]);
      expect(fake.calls.filter((call) => !/^delete:nope$/.test(call))).toEqual([]);
      expect(fake.created).toEqual([]);
      expect(fake.deleted).toEqual([]);
    });
  }

  test('error replies carry the code and hint', async () => {
    const res = await control('GET', '/api/v1/snapshot/delete/nope', { token: true });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ detail: 'no snapshot named "nope"', code: 'ENOSNAPSHOT', hint: 'list them with GET /api/v1/snapshots' });
    const bad = await control('GET', '/api/v1/revert/request?severity=fatal', { token: true });
    expect(bad.json.code).toBe('EBADREQUEST');
    const json = await guestRequest(socket, 'POST', '/api/v1/revert/request', { body: '{', headers: JSON_HEADERS });
    expect(json.status).toBe(400);
    expect(json.json.code).toBe('EBADJSON');
  });

  test('the guest socket refuses bad input the same way', async () => {
    expect((await guestRequest(socket, 'POST', '/api/v1/revert/request', { body: '{"severity":"fatal"}', headers: JSON_HEADERS })).status).toBe(400);
    expect((await guestRequest(socket, 'GET', '/api/v1/idle/reset?idle_duration=-5')).status).toBe(400);
    expect((await guestRequest(socket, 'POST', '/api/v1/revert/request', { body: 'x'.repeat(20_000), headers: JSON_HEADERS })).status).toBe(413);
    expect(fake.messages).toEqual([]);
  });
});

test.describe('load and files', () => {
  test('1,000 heartbeats in bursts of 50 all answer 200 and are all counted', async () => {
    let ok = 0;
    const statuses = new Map<number, number>();
    for (let sent = 0; sent < 1000; sent += 50) {
      const burst = Array.from({ length: 50 }, (_, i) => (i % 2 ? control('POST', '/api/v1/heartbeat') : control('GET', '/api/v1/heartbeat')));
      for (const res of await Promise.all(burst)) {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) ok++;
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 1000 });
    expect(ok).toBe(1000);
    expect(fake.heartbeats).toBe(1000);
  });

  test('1,000 heartbeats at once, each on its own connection as guests send them, to both listeners: none lost', async () => {
    const port = Number(new URL(base).port);
    const one = (target: { socketPath: string } | { host: string; port: number }) =>
      new Promise<number>((resolve) => {
        const req = http.request({ ...target, path: '/api/v1/heartbeat', method: 'GET', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(0));
        req.end();
      });
    for (const target of [{ socketPath: socket }, { host: '127.0.0.1', port }]) {
      fake.reset();
      const statuses = await Promise.all(Array.from({ length: 1000 }, () => one(target)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(fake.heartbeats).toBe(1000);
    }
  });

  test('the guest socket is private to its owner (0600)', async () => {
    const s = await stat(socket);
    expect(s.isSocket()).toBe(true);
    expect(s.mode & 0o777).toBe(0o600);
  });

  test('close() removes the socket file and stops both listeners', async () => {
    const own = new FakeWatchdog();
    const sock = path.join(dir, 'close.sock');
    const s = await ApiServers.start({ watchdog: own, guestSocket: sock, control: { host: '127.0.0.1', port: 0 }, log });
    const url = s.controlUrl!;
    expect((await fetch(`${url}/api/v1/heartbeat`)).status).toBe(200);
    // Without a token, the loopback listener takes actions as they come.
    expect((await fetch(`${url}/api/v1/vm/stop`, { method: 'POST' })).status).toBe(200);
    expect(own.calls).toEqual(['stop']);
    expect((await guestRequest(sock, 'GET', '/api/v1/heartbeat')).status).toBe(200);
    expect(own.heartbeats).toBe(2);

    await s.close();
    await expect(stat(sock)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fetch(`${url}/api/v1/heartbeat`)).rejects.toThrow();
    expect(own.heartbeats).toBe(2);
  });

  test('a stale socket file is replaced; a taken port fails with EAPILISTEN and leaves no socket behind', async () => {
    const own = new FakeWatchdog();
    const sock = path.join(dir, 'stale.sock');
    await (await import('node:fs/promises')).writeFile(sock, 'stale');
    const s = await ApiServers.start({ watchdog: own, guestSocket: sock, control: false, log });
    expect(s.controlUrl).toBeUndefined();
    expect((await guestRequest(sock, 'GET', '/api/v1/heartbeat')).status).toBe(200);
    await s.close();

    const port = Number(new URL(base).port);
    const sock2 = path.join(dir, 'taken.sock');
    const error = await ApiServers.start({ watchdog: own, guestSocket: sock2, control: { host: '127.0.0.1', port }, log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WatchdogError);
    expect((error as WatchdogError).code).toBe('EAPILISTEN');
    await expect(stat(sock2)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
