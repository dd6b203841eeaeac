import { defineConfig } from '@playwright/test';
import type { DemotoolOptions } from '../../../../fixtures/index.js';

const out = process.env.NESTED_OUT!;
export default defineConfig<DemotoolOptions>({
  testDir: '.',
  workers: 1,
  timeout: 3 * 60_000,
  outputDir: `${out}/test-results`,
  reporter: [['json', { outputFile: `${out}/report.json` }]],
  use: { vmImage: 'tiny', demoOutputDir: `${out}/demo-videos` },
});
