import { test, expect } from '@playwright/test';
import { runFixtureSuite } from './nested/fixtures-support/run.js';

test.describe.configure({ timeout: 8 * 60_000 });

test('an action without await fails its own test with the line and the word await, not a stray error after the run', async ({}, testInfo) => {
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-missing-await');
  expect(run.exitCode, run.all).toBe(1);
  const [forgot, next] = report();
  const failure = forgot?.results[0];
  expect(failure?.status, run.all).toBe('failed');
  const message = failure?.errors.map((e) => e.message).join('\n') ?? '';
  expect(message).toContain('still running when the test ended: missing `await`?');
  expect(message).toMatch(/type 'echo this line was typed without a.*' \(\S*forgot\.spec\.ts:5:\d+\)/);
  expect(next?.results[0]?.status, run.all).toBe('passed');
  // The cut-short action's own failure is dropped, not reported outside any test.
  expect(run.all).not.toMatch(/not a part of any test/);
});
