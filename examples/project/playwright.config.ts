import { defineConfig } from '@playwright/test';
import type { DemotoolOptions } from 'demotool/test';

export default defineConfig<DemotoolOptions>({
  testDir: 'tests',
  // A VM boots in seconds with KVM, in a minute or so under TCG (CI runners without nested KVM).
  timeout: 5 * 60_000,
  // One VM per worker: up to one worker per core (tests mostly wait; demotool's own CI runs 2 on 2 cores).
  workers: 1,
  // The VM's video in every test's report, and its screen when a test fails (Playwright's own options).
  use: { vmImage: 'tiny', video: 'on', screenshot: 'only-on-failure' },
  // The HTML report holds each test's steps, video and screenshots (npx playwright show-report).
  reporter: [['list'], ['html', { open: 'never' }]],
});
