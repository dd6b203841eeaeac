// The watchdog fixture on a tiny VM booted with default options (no guest monitors): the
// watchdog starts after the boot. The outer test (tests/e2e/fixtures-watchdog.spec.ts) reads
// the report: each revert is a step with the screens, and a missing recovery fails with the
// reverts that did happen. The second test fails on purpose.
import { test, expect } from '../../../../fixtures/index.js';
import { virsh } from '../../support/host.js';

test.describe.configure({ mode: 'serial' });
// No heartbeats come from this guest: only the domain's state and operators' requests count.
test.use({ watchdogOptions: { heartbeatTimeout: 0, grace: 0 } });

test('a suspended guest is recovered; the revert is a step with the screen before and after', async ({ vm, watchdog }) => {
  expect(watchdog.state).toBe('watching');
  // Text the snapshot (taken when the watchdog started) does not have: the screen before shows it, the one after does not.
  await vm.keyboard.type('clear; echo FAULT-MARKER-$((6*7))\n', { delay: 0 });
  await expect(vm).toShowText(/FAULT-MARKER-42/);
  await virsh('suspend', vm.name);
  await expect(watchdog).toHaveRecovered({ reason: 'domain-paused', within: 60_000 });
  expect(await virsh('domstate', vm.name)).toBe('running');
});

test('a recovery that does not come fails, listing the reverts that did happen', async ({ watchdog }) => {
  await watchdog.revert('asked by the test');
  await expect(watchdog).toHaveRecovered({ reason: 'guest-panic', within: 3_000 });
});
