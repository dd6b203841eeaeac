/**
 * The watchdog over HTTP on the real desktop guest: its monitors call 192.168.122.1:8000 as the
 * exhibition controller's scripts do, through the closed network (passt in a namespace of its
 * own). The guest reaches the guest API and nothing else.
 */
import { test, expect } from '../../fixtures/index.js';
import type { Vm } from '../../src/index.js';

const GUEST_API = 'http://192.168.122.1:8000';

test.describe.configure({ mode: 'serial', timeout: 6 * 60_000 });
test.use({
  vmImage: 'debian-12-desktop',
  vmResources: { memoryMiB: 2048 },
  vmOptions: { guestMonitors: { transport: 'http', processes: ['xterm'] } },
  watchdogOptions: { heartbeatTimeout: 8_000, grace: 5_000, guestRequestInterval: 0 },
});

/** curl in the guest, as root: the HTTP status, or 000 when nothing answered. */
async function guestCurl(vm: Vm, args: string): Promise<string> {
  const r = await vm.exec(`curl -s -m 3 -o /dev/null -w '%{http_code}' ${args}`, { user: 'root' });
  return r.stdout.trim();
}

/** Run a command in the guest after the agent call has returned (a revert would cut the call off). */
function guestLater(vm: Vm, command: string): Promise<unknown> {
  return vm.exec(`(sleep 1; ${command}) >/dev/null 2>&1 &`, { user: 'root' });
}

test('heartbeats come over HTTP; the guest reaches the guest API and nothing else', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 60_000 }).toBe('healthy');
  const status = watchdog.status();
  expect(status.guest.http).toBe(GUEST_API);
  expect(status.heartbeat.has_received_heartbeat).toBe(true);
  // The guest API answers the guest's vocabulary only.
  expect(await guestCurl(vm, `${GUEST_API}/api/v1/heartbeat`)).toBe('200');
  expect(await guestCurl(vm, `${GUEST_API}/api/v1/status`)).toBe('404');
  expect(await guestCurl(vm, `-X POST ${GUEST_API}/api/v1/vm/stop`)).toBe('404');
  expect(await guestCurl(vm, `${GUEST_API}/api/v1/snapshot/create`)).toBe('404');
  // The control listener, VNC and any other port are out of reach, as is any other address of the guest's network.
  const controlPort = new URL(watchdog.url!).port;
  expect(await guestCurl(vm, `http://192.168.122.1:${controlPort}/api/v1/status`)).toBe('000');
  expect(await guestCurl(vm, 'http://192.168.122.1:5900/')).toBe('000');
  expect(await guestCurl(vm, 'http://192.168.122.1:22/')).toBe('000');
  expect(await guestCurl(vm, 'http://192.168.122.2:80/')).toBe('000');
  expect(watchdog.reverts).toHaveLength(0);
});

test('revert requests from the guest over HTTP: POST with JSON and GET with a query', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 60_000 }).toBe('healthy');
  await guestLater(
    vm,
    `curl -s -X POST -H 'Content-Type: application/json' -d '{"reason":"json says so","severity":"error"}' ${GUEST_API}/api/v1/revert/request`,
  );
  await expect(watchdog).toHaveRecovered({ reason: 'guest-request', within: 30_000 });
  expect(watchdog.reverts[0]!.detail).toBe('json says so; severity error; via http');

  await guestLater(vm, `curl -s '${GUEST_API}/api/v1/revert/request?reason=query%20says%20so'`);
  await expect(watchdog).toHaveRecovered({ reason: 'guest-request', after: 1, within: 30_000 });
  expect(watchdog.reverts[1]!.detail).toBe('query says so; via http');
  expect(watchdog.reverts.map((r) => r.method)).toEqual(['in-place', 'in-place']);
});

test('the process watchdog: the xterm is killed, the guest asks for a revert, and the xterm is back', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 60_000 }).toBe('healthy');
  const withXterm = await vm.screenshot();
  await guestLater(vm, 'pkill -x xterm');
  await expect(watchdog).toHaveRecovered({ reason: 'guest-request', within: 40_000 });
  expect(watchdog.reverts[0]!.detail).toContain('process xterm is gone');
  // The screen the snapshot had, with its xterm, and the process itself.
  await vm.waitForScreen(withXterm, { timeout: 20_000 });
  expect((await vm.exec('pgrep -x xterm', { user: 'root' })).exitCode).toBe(0);
});
