import { test, expect } from '@playwright/test';
import { runFixtureSuite } from './nested/fixtures-support/run.js';

test('toShowText and toMatchScreen pass, fail with clear messages, and support .not', async ({}, testInfo) => {
  test.setTimeout(5 * 60_000);
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-matchers');
  expect(run.exitCode, run.all).toBe(0);
  // The default log level keeps the terminal to warnings and errors.
  expect(run.all).not.toMatch(/demotool (info|debug) /);
  const tests = report();
  expect(tests.map((t) => t.results[0]?.status)).toEqual(['passed', 'passed', 'passed', 'passed']);
});
