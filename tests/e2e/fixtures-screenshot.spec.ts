import { test, expect } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { runFixtureSuite } from './nested/fixtures-support/run.js';

test.describe.configure({ mode: 'serial', timeout: 8 * 60_000 });

let snapDir = '';
const baseline = () => join(snapDir, 'console.spec.ts', 'console.png');

test('--update-snapshots writes the baseline where snapshotPathTemplate says', async ({}, testInfo) => {
  snapDir = testInfo.outputPath('snapshots');
  const { run } = await runFixtureSuite(testInfo, 'fixtures-screenshot', ['-u'], { SNAP_DIR: snapDir });
  expect(run.exitCode, run.all).toBe(0);
  expect(existsSync(baseline())).toBe(true);
  const png = PNG.sync.read(readFileSync(baseline()));
  expect(png.width).toBeGreaterThanOrEqual(640);
});

test('the same screen passes; a changed screen fails with expected, actual and diff attached', async ({}, testInfo) => {
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-screenshot', [], { SNAP_DIR: snapDir, CHANGED: '1' });
  expect(run.exitCode, run.all).toBe(1);
  const tests = report();
  expect(tests.find((t) => t.title === 'matches the baseline')!.results[0]!.status).toBe('passed');
  const failed = tests.find((t) => t.title === 'a changed screen fails with diff images')!.results[0]!;
  expect(failed.status).toBe('failed');
  const message = failed.errors.map((e) => e.message ?? '').join('\n');
  expect(message).toMatch(/toHaveScreenshot/);
  expect(message).toMatch(/\d+ pixels \([\d.]+% of \d+x\d+\) are different/);
  expect(message).toMatch(/allowed: 60/);
  expect(message).toContain(baseline());
  const files = Object.fromEntries(failed.attachments.filter((a) => a.path).map((a) => [a.name, a.path!]));
  for (const name of ['console-expected.png', 'console-actual.png', 'console-diff.png']) {
    expect(files[name], `${name} attached`).toBeTruthy();
    expect(existsSync(files[name]!)).toBe(true);
  }
  expect(message).toContain(files['console-diff.png']);
  const diff = PNG.sync.read(readFileSync(files['console-diff.png']!));
  const expected = PNG.sync.read(readFileSync(baseline()));
  expect([diff.width, diff.height]).toEqual([expected.width, expected.height]);
  // The baseline was not touched by the failing run.
  expect(readFileSync(files['console-expected.png']!).equals(readFileSync(baseline()))).toBe(true);
});

test('a missing baseline is written and the test fails, as in Playwright', async ({}, testInfo) => {
  const fresh = testInfo.outputPath('fresh-snapshots');
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-screenshot', [], { SNAP_DIR: fresh });
  expect(run.exitCode, run.all).toBe(1);
  const result = report().find((t) => t.title === 'matches the baseline')!.results[0]!;
  expect(result.status).toBe('failed');
  expect(result.errors.map((e) => e.message).join('\n')).toMatch(/A snapshot doesn't exist at .*console\.png, writing actual\./);
  expect(existsSync(join(fresh, 'console.spec.ts', 'console.png'))).toBe(true);
});

test('--ignore-snapshots: a changed screen passes, as Playwright skips its own screenshot assertions', async ({}, testInfo) => {
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-screenshot', ['--ignore-snapshots'], { SNAP_DIR: snapDir, CHANGED: '1' });
  expect(run.exitCode, run.all).toBe(0);
  expect(report().map((t) => t.results[0]?.status)).toEqual(['passed', 'passed']);
});
