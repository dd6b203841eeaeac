/**
 * Bad fixture options in a real Playwright run: each test fails with a UsageError that names
 * the fixture option as the config writes it (vmReset, demoOutputDir, vmResources.cpus,
 * vmOptions.netwrok), with the nearest value or key, and no VM boots.
 */
import { test, expect } from '@playwright/test';
import { runFixtureSuite, stepTitles } from './nested/fixtures-support/run.js';
import { domains } from './support/host.js';

test.describe.configure({ timeout: 5 * 60_000 });

test('a bad fixture option fails its test with a UsageError naming it, before anything boots', async ({}, testInfo) => {
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-options');
  expect(run.exitCode, run.all).toBe(1);
  const errors = Object.fromEntries(report().map((t) => [t.title, t.results[0]?.errors.map((e) => e.message ?? '').join('\n') ?? '']));
  const expected: Record<string, string> = {
    'vmReset typo': 'fixture option vmReset: Invalid option: expected one of "none"|"snapshot" (did you mean "snapshot"?)',
    'demoOutputDir number': 'fixture option demoOutputDir: Invalid input: expected string, received number',
    'vmResources string': 'fixture option vmResources.cpus: Invalid input: expected number, received string',
    'vmOptions typo': 'unknown fixture option "vmOptions.netwrok" (did you mean "vmOptions.network"?)',
  };
  for (const [title, message] of Object.entries(expected)) {
    expect(errors[title], run.all).toContain('UsageError');
    expect(errors[title], run.all).toContain(message);
  }
  // Nothing booted: every test failed with no boot step, and no VM of the suite is left.
  for (const t of report()) {
    expect(t.results[0]?.status, t.title).toBe('failed');
    expect(
      stepTitles(t.results[0]?.steps ?? []).filter((s) => /boot a |start:/.test(s)),
      t.title,
    ).toEqual([]);
  }
  expect((await domains()).filter((d) => /^demo-(options|resources|vm-options)-/.test(d))).toEqual([]);
});
