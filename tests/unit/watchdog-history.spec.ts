import { test, expect } from '@playwright/test';
import { createLogger } from '../../src/log.js';
import { Watchdog } from '../../src/watchdog/watchdog.js';
import { fakeDomain } from './support/fake-domain.js';

test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

test('a long-running watchdog keeps screens only for its newest 20 recoveries, and counts them all', async () => {
  const { domain } = fakeDomain();
  let shots = 0;
  const watchdog = await Watchdog.start(
    { name: 'exhibit-history', domain, channels: {}, screenshot: async () => Buffer.alloc(64 * 1024, ++shots % 256) },
    { takeSnapshot: 'never', heartbeatTimeout: 0, idleTimeout: 0, api: false },
    createLogger('test'),
  );
  try {
    for (let i = 0; i < 25; i++) {
      await watchdog.revert(`#${i}`);
      // Without heartbeats, a successful revert is the recovery: wait for its screen.
      await expect.poll(() => watchdog.reverts.at(-1)?.recoveredAt, { timeout: 2_000 }).toBeDefined();
    }
    expect(watchdog.status().reverts).toBe(25);
    const withScreens = watchdog.reverts.filter((r) => r.screenBefore || r.screenAfter);
    expect(withScreens.map((r) => r.detail)).toEqual(Array.from({ length: 20 }, (_, i) => `#${i + 5}`));
    expect(watchdog.reverts.at(-1)?.screenAfter?.length).toBe(64 * 1024);
  } finally {
    await watchdog.close();
  }
});
