/** Two watchdogs on two VMs at once: a fault in one is recovered there, and the other is left alone. */
import { test, expect } from '../../fixtures/index.js';
import { startDemo } from '../../src/index.js';

test.describe.configure({ timeout: 5 * 60_000 });

test('two VMs, two watchdogs: each hears only its own guest and reverts only its own VM', async ({}, testInfo) => {
  await using demo = await startDemo('watchdog-two', { outputDir: testInfo.outputPath('videos'), artifactsDir: testInfo.outputPath('artifacts') });
  const options = { resources: { memoryMiB: 512 }, guestMonitors: { transport: 'serial' as const } };
  const [a, b] = await Promise.all([demo.vm('tiny', options), demo.vm('tiny', options)]);
  expect(a.name).not.toBe(b.name);
  await using wa = await a.watchdog({ heartbeatTimeout: 5_000, grace: 3_000 });
  await using wb = await b.watchdog({ heartbeatTimeout: 5_000, grace: 3_000 });
  expect(wa.url).not.toBe(wb.url);
  await expect.poll(() => [wa.state, wb.state], { timeout: 30_000 }).toEqual(['healthy', 'healthy']);

  // A's heartbeat stops: only A is reverted; B keeps beating and sees nothing.
  await a.keyboard.type('demotool-guest stop\n', { delay: 0 });
  await expect(wa).toHaveRecovered({ reason: 'heartbeat-timeout', within: 25_000 });
  expect(wb.reverts).toHaveLength(0);
  expect(wb.state).toBe('healthy');
  // A revert request through B's API reverts B, not A.
  const beforeA = wa.reverts.length;
  const reply = await fetch(`${wb.url}/api/v1/vm/restart`, { method: 'POST' });
  expect(reply.status).toBe(200);
  await expect(wb).toHaveRecovered({ reason: 'manual', within: 20_000 });
  expect(wa.reverts).toHaveLength(beforeA);
  const [sa, sb] = [wa.status(), wb.status()];
  expect(sa.vm_name).toBe(a.name);
  expect(sb.vm_name).toBe(b.name);
});
