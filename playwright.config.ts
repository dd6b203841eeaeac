import { defineConfig } from '@playwright/test';
import type { DemotoolOptions } from './fixtures/index.js';

// Every project drives VMs (one e2e test also drives Debian's chromium, see fixtures-browser). Timeouts are generous because guests
// run under TCG on CI machines without KVM.
// VM screens do not depend on the host OS or the project: one baseline per name, committed
// next to the spec (demos/regression.spec.ts-snapshots/desktop.png).
// `npm run demo` writes its report to demo-report/ (DEMOTOOL_REPORT_DIR), so a test run beside it keeps its own.
const report = process.env.DEMOTOOL_REPORT_DIR || 'playwright-report';
const snapshotPathTemplate = '{testDir}/{testFilePath}-snapshots/{arg}{ext}';

export default defineConfig<DemotoolOptions>({
  timeout: 10 * 60_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  // A failing test gets the VM's screen attached (demotool's fixtures follow Playwright's `screenshot`).
  use: { screenshot: 'only-on-failure' },
  retries: 0,
  // Two workers on CI's 2 cores too (no KVM): 27.6 minutes with one, 16-18 with two. Beside another
  // busy VM a guest's vCPU stalls now and then; typing waits for room in its keyboard's queue, so
  // no key is lost to it any more (README: "Where npm test's time goes").
  workers: 2,
  reporter: process.env.CI
    ? [['list'], ['html', { open: 'never', outputFolder: report }], ['junit', { outputFile: 'test-results/junit.xml' }]]
    : [['list'], ['html', { open: 'never', outputFolder: report }]],
  projects: [
    { name: 'unit', testDir: 'tests/unit', timeout: 60_000 },
    { name: 'e2e', testDir: 'tests/e2e', testIgnore: '**/nested/**' },
    // The demos: each test recorded as a whole too, so the HTML report holds its video.
    // `npm run demo` and `npm test` may run side by side in one checkout: the demos write their
    // test output to demo-results/, and the smoke run's videos go under test-results/.
    { name: 'demos', testDir: 'demos', outputDir: 'demo-results', snapshotPathTemplate, use: { video: 'on' } },
    {
      name: 'demos-smoke',
      testDir: 'demos',
      grep: /@smoke/,
      snapshotPathTemplate,
      use: { video: 'on', demoOutputDir: 'test-results/demo-videos' },
    },
  ],
});
