import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runFixtureSuite } from './nested/fixtures-support/run.js';

// A suite that imports demotool/test and drives a real browser page: Debian's chromium.
test.describe.configure({ mode: 'serial', timeout: 4 * 60_000 });
test.skip(!existsSync('/usr/bin/chromium'), 'needs /usr/bin/chromium (Debian: apt-get install chromium)');

let snapDir = '';

test('expect(page).toHaveScreenshot() is Playwright’s: a baseline is written, then matched', async ({}, testInfo) => {
  snapDir = testInfo.outputPath('snapshots');
  const write = await runFixtureSuite(testInfo, 'fixtures-browser', ['--update-snapshots'], { SNAP_DIR: snapDir }, 'write');
  expect(write.run.exitCode, write.run.all).toBe(0);
  expect(existsSync(join(snapDir, 'page.png'))).toBe(true);

  const match = await runFixtureSuite(testInfo, 'fixtures-browser', [], { SNAP_DIR: snapDir }, 'match');
  expect(match.run.exitCode, match.run.all).toBe(0);
  const statuses = Object.fromEntries(match.report().map((t) => [t.title, t.results[0]?.status]));
  expect(statuses).toEqual({
    "a page keeps Playwright's own toHaveScreenshot": 'passed',
    '.not reaches Playwright too': 'skipped',
    'VM matchers refuse a page with a UsageError': 'passed',
  });
});

test("a changed page fails with Playwright's message; .not passes", async ({}, testInfo) => {
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-browser', [], { SNAP_DIR: snapDir, CHANGED: '1' }, 'changed');
  expect(run.exitCode, run.all).toBe(1);
  const byTitle = Object.fromEntries(report().map((t) => [t.title, t.results[0]]));
  const failed = byTitle["a page keeps Playwright's own toHaveScreenshot"];
  expect(failed?.status).toBe('failed');
  // Playwright's own wording and its diff images, not the VM matcher's.
  expect(failed?.errors.map((e) => e.message).join('\n')).toMatch(/Screenshot comparison failed|pixels .* are different/);
  expect(failed?.attachments.map((a) => a.name)).toEqual(expect.arrayContaining(['page-expected.png', 'page-actual.png', 'page-diff.png']));
  expect(byTitle['.not reaches Playwright too']?.status).toBe('passed');
});
