/**
 * The watchdog on a real tiny guest whose monitors talk over its serial port (ttyS1), with
 * faults injected for real: the heartbeat killed, the guest frozen, a kernel panic, QEMU
 * killed, a guest's revert request, idle time, auto-revert off, an operator's stop, and a
 * revert storm. One VM for the file; every recovery returns it to the 'ready' snapshot.
 */
import { execa } from 'execa';
import { test, expect } from '../../fixtures/index.js';
import { probeVideo } from '../../src/record/index.js';
import { qemuPid, virsh } from './support/host.js';

/** The fields of GET /api/v1/status these tests read. */
type ApiStatus = { vm_name: string; auto_revert_enabled: boolean; heartbeat: { is_timed_out: boolean } };

const HEARTBEAT_TIMEOUT = 5_000;
const GRACE = 3_000;
// A recovery completes (revert + the first heartbeat after it) within this much of its trigger.
const RECOVERY_SLACK = 15_000;

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
test.use({
  vmImage: 'tiny',
  vmResources: { memoryMiB: 512 },
  vmOptions: { guestMonitors: { transport: 'serial' } },
  watchdogOptions: { heartbeatTimeout: HEARTBEAT_TIMEOUT, grace: GRACE, guestRequestInterval: 0 },
});

/** Type a command on the guest's console (tty1). */
async function sh(vm: import('../../src/index.js').Vm, command: string): Promise<void> {
  await vm.keyboard.type(`${command}\n`, { delay: 0 });
}

test('heartbeats arrive over the serial port; killing the heartbeat gives one revert and the snapshot screen', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  expect(watchdog.status().guest.serial).toBe(true);
  const atSnapshot = await vm.screenshot();
  const killedAt = Date.now();
  await sh(vm, 'demotool-guest stop; echo heartbeat killed');
  await expect(watchdog).toHaveRecovered({ reason: 'heartbeat-timeout', within: HEARTBEAT_TIMEOUT + RECOVERY_SLACK });
  const revert = watchdog.reverts[0]!;
  expect(watchdog.reverts).toHaveLength(1);
  // Not before the timeout, and not long after it.
  const startedAfter = Date.parse(revert.startedAt) - killedAt;
  expect(startedAfter).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT - 1000);
  expect(startedAfter).toBeLessThan(HEARTBEAT_TIMEOUT + 5_000);
  // The screen is the snapshot's again (the typed command is gone), and beats keep coming.
  await vm.waitForScreen(atSnapshot, { timeout: 10_000 });
  const beats = watchdog.status().guest.heartbeats;
  await expect.poll(() => watchdog.status().guest.heartbeats, { timeout: 10_000 }).toBeGreaterThan(beats + 2);
  expect(watchdog.state).toBe('healthy');
  expect(watchdog.reverts).toHaveLength(1);
});

test('a guest suspended by libvirt is reverted at once, and resumed', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  await virsh('suspend', vm.name);
  await expect(watchdog).toHaveRecovered({ reason: 'domain-paused', within: RECOVERY_SLACK });
  expect(watchdog.reverts[0]!.detail).toContain('paused');
  expect(await virsh('domstate', vm.name)).toBe('running');
});

test('a QEMU stopped with SIGSTOP: no virsh call hangs the watchdog, and the VM comes back', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  const pid = await qemuPid(vm.name);
  process.kill(pid, 'SIGSTOP');
  try {
    // While QEMU is frozen, the watchdog and its API keep answering at once.
    await expect.poll(() => watchdog.state, { timeout: HEARTBEAT_TIMEOUT + 5_000 }).not.toBe('healthy');
    const t0 = performance.now();
    const status = (await (await fetch(`${watchdog.url}/api/v1/status`)).json()) as ApiStatus;
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(status.vm_name).toBe(vm.name);
    await expect(watchdog).toHaveRecovered({ reason: 'heartbeat-timeout', within: HEARTBEAT_TIMEOUT + 60_000 });
  } finally {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // the watchdog killed it: expected
    }
  }
  // A monitor that doesn't answer means a restart: the old QEMU is gone.
  expect(watchdog.reverts[0]!.method).toBe('restart');
  expect(await qemuPid(vm.name)).not.toBe(pid);
});

test('a kernel panic is reported by pvpanic and reverted well before the heartbeat timeout', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  const panickedAt = Date.now();
  await sh(vm, 'echo c > /proc/sysrq-trigger');
  await expect(watchdog).toHaveRecovered({ reason: 'guest-panic', within: RECOVERY_SLACK });
  const revert = watchdog.reverts[0]!;
  expect(revert.detail).toMatch(/panic/);
  expect(Date.parse(revert.startedAt) - panickedAt).toBeLessThan(HEARTBEAT_TIMEOUT - 1_000);
  expect(watchdog.reverts.every((r) => r.reason === 'guest-panic')).toBe(true);
});

test('QEMU killed with SIGKILL: recovery from shut off (crashed); VNC and a running recording carry on', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  const pid = await qemuPid(vm.name);
  const started = Date.now();
  const result = await vm.record('qemu-killed', async () => {
    await sh(vm, 'echo before the crash');
    await new Promise((r) => setTimeout(r, 1_000));
    process.kill(pid, 'SIGKILL');
    await expect(watchdog).toHaveRecovered({ reason: 'domain-crashed', within: RECOVERY_SLACK });
    // Input reaches the new QEMU: the guest echoes a marker to its serial console.
    const from = vm.serial.mark();
    await sh(vm, 'echo AFTER-CRASH-$((6*7)) > /dev/ttyS0');
    await vm.waitForSerial('AFTER-CRASH-42', { from, timeout: 20_000 });
  });
  const elapsed = (Date.now() - started) / 1000;
  expect(watchdog.reverts[0]!.detail).toContain('crashed');
  expect(await qemuPid(vm.name)).not.toBe(pid);
  const info = await probeVideo(result.path);
  expect(info.durationSec).toBeGreaterThan(elapsed * 0.7);
  expect(info.durationSec).toBeLessThan(elapsed * 1.3);
  const decoded = await execa('ffmpeg', ['-v', 'error', '-i', result.path, '-f', 'null', '-'], { reject: false });
  expect(decoded.exitCode, decoded.stderr).toBe(0);
});

test('a revert request over the serial port reverts at once, with the reason logged', async ({ vm, watchdog }) => {
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  const asked = Date.now();
  await sh(vm, 'demotool-guest send revert "viewer window is gone"');
  await expect(watchdog).toHaveRecovered({ reason: 'guest-request', within: RECOVERY_SLACK });
  const revert = watchdog.reverts[0]!;
  expect(revert.detail).toContain('viewer window is gone');
  expect(revert.detail).toContain('via serial');
  expect(Date.parse(revert.startedAt) - asked).toBeLessThan(5_000);
});

test('idle: resets from the guest postpone the idle timeout; without them it reverts', async ({ vm }) => {
  await using watchdog = await vm.watchdog({ heartbeatTimeout: HEARTBEAT_TIMEOUT, grace: GRACE, idleTimeout: 8_000 });
  // Activity reported every 2 s for 14 s: longer than the idle timeout, and no revert.
  await sh(vm, 'for i in 1 2 3 4 5 6 7; do demotool-guest send idle-reset 0; sleep 2; done');
  await expect(watchdog).not.toHaveRecovered({ within: 12_000 });
  expect(watchdog.reverts).toHaveLength(0);
  // Then the guest goes quiet.
  await expect(watchdog).toHaveRecovered({ reason: 'idle-timeout', within: 8_000 + RECOVERY_SLACK });
  expect(watchdog.reverts[0]!.detail).toMatch(/no user activity for \d+ s/);
});

test('idle monitor: keys typed on the virtio keyboard are activity; without them it reverts', async ({ vm }) => {
  await using watchdog = await vm.watchdog({ heartbeatTimeout: HEARTBEAT_TIMEOUT, grace: GRACE, idleTimeout: 8_000 });
  // The guest's idle monitor, by hand: this file's guest runs heartbeats only. It counts the input devices' interrupts.
  await sh(vm, 'DEMOTOOL_TRANSPORT=serial demotool-guest idle-monitor >/dev/null 2>&1 &');
  // A key every 2 s for 14 s: longer than the idle timeout, and no revert.
  for (let i = 0; i < 7; i++) {
    await vm.keyboard.press('Shift');
    await new Promise((r) => setTimeout(r, 2_000));
  }
  expect(watchdog.reverts).toHaveLength(0);
  await expect(watchdog).toHaveRecovered({ reason: 'idle-timeout', within: 8_000 + RECOVERY_SLACK });
});

test('auto-revert off: the timeout is logged and nothing reverts; on again: recovery resumes; a stop through the API stays stopped', async ({ vm }) => {
  const token = 'test-token-0123456789abcdef';
  await using watchdog = await vm.watchdog({ heartbeatTimeout: HEARTBEAT_TIMEOUT, grace: GRACE, autoRevert: false, api: { token } });
  const auth = { authorization: `Bearer ${token}` };
  await expect.poll(() => watchdog.state, { timeout: 20_000 }).toBe('healthy');
  await sh(vm, 'demotool-guest stop');
  await expect.poll(() => watchdog.state, { timeout: HEARTBEAT_TIMEOUT + 5_000 }).toBe('timed-out');
  await expect(watchdog).not.toHaveRecovered({ within: 5_000 });
  const status = (await (await fetch(`${watchdog.url}/api/v1/status`)).json()) as ApiStatus;
  expect(status.heartbeat.is_timed_out).toBe(true);
  expect(status.auto_revert_enabled).toBe(false);

  expect((await fetch(`${watchdog.url}/api/v1/revert/enable`, { method: 'POST' })).status).toBe(401);
  expect((await fetch(`${watchdog.url}/api/v1/revert/enable`, { method: 'POST', headers: auth })).status).toBe(200);
  await expect(watchdog).toHaveRecovered({ reason: 'heartbeat-timeout', within: RECOVERY_SLACK });

  // An operator's stop: the VM stays off past the heartbeat timeout, and longer than VNC's
  // reconnect window (15 s), which the client outlasts.
  const count = watchdog.reverts.length;
  expect((await fetch(`${watchdog.url}/api/v1/vm/stop`, { headers: auth })).status).toBe(200);
  expect(await virsh('domstate', vm.name)).toBe('shut off');
  await new Promise((r) => setTimeout(r, 17_000));
  expect(await virsh('domstate', vm.name)).toBe('shut off');
  expect(watchdog.reverts).toHaveLength(count);
  expect(watchdog.state).toBe('stopped');
  // Started again: back to the snapshot, running, heartbeats, and the same VNC client types into it.
  expect((await fetch(`${watchdog.url}/api/v1/vm/start`, { method: 'POST', headers: auth })).status).toBe(200);
  expect(await virsh('domstate', vm.name)).toBe('running');
  await expect(watchdog).toHaveRecovered({ reason: 'manual', after: count, within: RECOVERY_SLACK });
  const from = vm.serial.mark();
  await sh(vm, 'echo BACK-$((40+2)) > /dev/ttyS0');
  await vm.waitForSerial('BACK-42', { from, timeout: 30_000 });
});

test('a revert storm (a guest that never beats) escalates to a restart and ends in failed without looping', async ({ vm }) => {
  // A snapshot of the guest without its heartbeat: every revert brings back a silent guest.
  await expect.poll(async () => (await virsh('domstate', vm.name)) === 'running', { timeout: 20_000 }).toBe(true);
  // The snapshot must come after the stop has run, not just after its keys were sent: a busy host
  // can run it late, and a snapshot of a guest still beating makes every revert healthy.
  const from = vm.serial.mark();
  await sh(vm, 'demotool-guest stop; echo HEARTBEAT-$((6*7))-STOPPED > /dev/ttyS0');
  await vm.waitForSerial('HEARTBEAT-42-STOPPED', { from, timeout: 30_000 });
  await using watchdog = await vm.watchdog({
    snapshot: 'silent',
    takeSnapshot: 'always',
    heartbeatTimeout: 3_000,
    grace: 0,
    escalation: { maxReverts: 2, windowMs: 120_000, maxRestarts: 1 },
  });
  const failed = new Promise<string>((resolve) => watchdog.once('failed', resolve));
  await expect.poll(() => watchdog.state, { timeout: 90_000 }).toBe('failed');
  expect(await failed).toMatch(/restart/);
  expect(watchdog.reverts.map((r) => r.method)).toEqual(['in-place', 'in-place', 'restart']);
  expect(watchdog.reverts.every((r) => r.reason === 'heartbeat-timeout' && r.ok)).toBe(true);
  // No loop: nothing more happens while it is failed.
  await new Promise((r) => setTimeout(r, 8_000));
  expect(watchdog.reverts).toHaveLength(3);
  expect(watchdog.status().state).toBe('failed');
  await vm.deleteSnapshot('silent');
});
