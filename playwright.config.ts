import { defineConfig } from '@playwright/test';
import type { DemotoolOptions } from './fixtures/index.js';

// No browser is used: every project drives VMs. Timeouts are generous because guests
// run under TCG on CI machines without KVM.
// VM screens do not depend on the host OS or the project: one baseline per name, committed
// next to the spec (demos/regression.spec.ts-snapshots/desktop.png).
const snapshotPathTemplate = '{testDir}/{testFilePath}-snapshots/{arg}{ext}';

export default defineConfig<DemotoolOptions>({
  timeout: 10 * 60_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  // CI machines have 2 cores and no KVM: one VM at a time keeps TCG guests (and typing) steady.
  workers: process.env.CI ? 1 : 2,
  reporter: process.env.CI
    ? [['list'], ['html', { open: 'never' }], ['junit', { outputFile: 'test-results/junit.xml' }]]
    : [['list'], ['html', { open: 'never' }]],
  projects: [
    { name: 'unit', testDir: 'tests/unit', timeout: 60_000 },
    { name: 'e2e', testDir: 'tests/e2e', testIgnore: '**/nested/**' },
    // The demos: each test recorded as a whole too, so the HTML report holds its video.
    { name: 'demos', testDir: 'demos', snapshotPathTemplate, use: { video: 'on' } },
    { name: 'demos-smoke', testDir: 'demos', grep: /@smoke/, snapshotPathTemplate, use: { video: 'on' } },
  ],
});
