import { defineConfig } from '@playwright/test';
import type { DemotoolOptions } from '../../../../fixtures/index.js';

const out = process.env.NESTED_OUT!;
export default defineConfig<DemotoolOptions>({
  testDir: '.',
  workers: 1,
  timeout: 3 * 60_000,
  expect: { timeout: 10_000 },
  outputDir: `${out}/test-results`,
  // Baselines in a directory of the outer test's choosing; {testFileName} proves the template is applied.
  snapshotPathTemplate: `${process.env.SNAP_DIR}/{testFileName}/{arg}{ext}`,
  reporter: [['json', { outputFile: `${out}/report.json` }]],
  use: { vmImage: 'tiny', demoOutputDir: `${out}/demo-videos` },
});
