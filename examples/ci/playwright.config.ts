// Example playwright.config.ts for a project that uses demotool in CI.
import { defineConfig } from '@playwright/test';
import type { DemotoolOptions } from 'demotool/test';

export default defineConfig<DemotoolOptions>({
  testDir: 'tests',
  // VMs boot slowly under TCG: give each test room (the boot time is added by the fixtures).
  timeout: 5 * 60_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  // One VM per worker: keep workers at or below (host cores / 2).
  workers: process.env.CI ? 2 : 1,
  // VM screens do not depend on the host OS: one baseline per name, no -linux suffix.
  snapshotPathTemplate: '{testDir}/{testFilePath}-snapshots/{arg}{ext}',
  reporter: process.env.CI
    ? [
        ['list'],
        ['html', { open: 'never' }],
        // JUnit XML for CI dashboards (GitHub test summaries, GitLab, Jenkins).
        ['junit', { outputFile: 'test-results/junit.xml', includeProjectInTestName: true }],
      ]
    : [['list'], ['html', { open: 'never' }]],
  use: {
    vmImage: 'debian-12-desktop',
    // Keep whole-test videos only for failures; demo sections (vm.record) are always kept.
    video: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
