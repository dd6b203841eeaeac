import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';
import type { DemotoolOptions } from '../../../../fixtures/index.js';

/**
 * The shared shape of the nested fixture suites: output and JSON report under NESTED_OUT
 * (chosen by the outer test), the tiny image, the VM's screen attached to a failing test, one
 * worker unless a suite says otherwise.
 */
export function nestedConfig(extra: PlaywrightTestConfig<DemotoolOptions> = {}) {
  const out = process.env.NESTED_OUT!;
  return defineConfig<DemotoolOptions>({
    testDir: '.',
    workers: 1,
    timeout: 3 * 60_000,
    outputDir: `${out}/test-results`,
    reporter: [['json', { outputFile: `${out}/report.json` }]],
    ...extra,
    use: { vmImage: 'tiny', demoOutputDir: `${out}/demo-videos`, screenshot: 'only-on-failure', ...extra.use },
  });
}
