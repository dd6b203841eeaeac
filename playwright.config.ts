import { defineConfig } from '@playwright/test';

// No browser is used: every project drives VMs. Timeouts are generous because guests
// run under TCG on CI machines without KVM.
export default defineConfig({
  timeout: 10 * 60_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: process.env.CI
    ? [['list'], ['html', { open: 'never' }], ['junit', { outputFile: 'test-results/junit.xml' }]]
    : [['list'], ['html', { open: 'never' }]],
  projects: [
    { name: 'unit', testDir: 'tests/unit', timeout: 60_000 },
    { name: 'e2e', testDir: 'tests/e2e', testIgnore: '**/nested/**' },
    { name: 'demos', testDir: 'demos' },
    { name: 'demos-smoke', testDir: 'demos', grep: /@smoke/ },
  ],
});
