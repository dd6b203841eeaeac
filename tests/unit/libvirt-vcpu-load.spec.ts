/**
 * VcpuLoad reads how busy a vCPU thread is from /proc/<tid>/schedstat. This test's own main
 * thread stands in for the vCPU: spinning, it is busy; waiting on a timer, it is not. (Its
 * readings themselves await the thread pool, so a spinning thread reads 0.65–1, not 1.) The e2e
 * proof is vnc-desktop.spec.ts (typing into a desktop that falls behind).
 */
import { test, expect } from '@playwright/test';
import { VcpuLoad } from '../../src/libvirt/vcpu-load.js';
import type { QemuMonitor } from '../../src/libvirt/qemu-monitor.js';

class StandInMonitor {
  generation = 1;
  asked = 0;
  constructor(public threadIds: number[]) {}
  async execute<T>(command: string): Promise<T> {
    expect(command).toBe('query-cpus-fast');
    this.asked++;
    return this.threadIds.map((id) => ({ 'cpu-index': 0, 'thread-id': id })) as T;
  }
}

function spin(ms: number): void {
  for (const until = performance.now() + ms; performance.now() < until;);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a spinning thread reads as busy, a waiting one as idle; nothing until two readings 30 ms apart', async () => {
  const load = new VcpuLoad(new StandInMonitor([process.pid]) as unknown as QemuMonitor);
  expect(await load.busy()).toBeUndefined();
  spin(10);
  expect(await load.busy()).toBeUndefined();
  // Read every 50 ms, as typing does (more often, in fact): readings further apart start over.
  for (let i = 0; i < 3; i++) {
    spin(50);
    await load.busy();
  }
  spin(50);
  expect(await load.busy()).toBeGreaterThan(0.5);
  for (let i = 0; i < 3; i++) {
    await pause(50);
    await load.busy();
  }
  await pause(50);
  expect(await load.busy()).toBeLessThan(0.25);
});

test('the share is of the last 100 ms or so, not since the first reading', async () => {
  const load = new VcpuLoad(new StandInMonitor([process.pid]) as unknown as QemuMonitor);
  await load.busy();
  for (let i = 0; i < 5; i++) {
    await pause(60);
    await load.busy();
  }
  for (let i = 0; i < 2; i++) {
    spin(60);
    await load.busy();
  }
  expect(await load.busy()).toBeGreaterThan(0.5);
});

test('a reading after a pause starts over: a busy moment now is not averaged with the idle one before it', async () => {
  const load = new VcpuLoad(new StandInMonitor([process.pid]) as unknown as QemuMonitor);
  await load.busy();
  await pause(400);
  spin(20);
  expect(await load.busy()).toBeUndefined();
  spin(40);
  expect(await load.busy()).toBeGreaterThan(0.5);
});

test("the threads are asked once per QEMU; one that can't be read (gone) tells nothing", async () => {
  const monitor = new StandInMonitor([process.pid]);
  const load = new VcpuLoad(monitor as unknown as QemuMonitor);
  await load.busy();
  await pause(40);
  await load.busy();
  expect(monitor.asked).toBe(1);
  monitor.generation = 2;
  monitor.threadIds = [2 ** 22 + 12345];
  expect(await load.busy()).toBeUndefined();
  await pause(40);
  expect(await load.busy()).toBeUndefined();
  expect(monitor.asked).toBe(2);
});
