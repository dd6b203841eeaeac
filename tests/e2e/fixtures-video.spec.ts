import { test, expect } from '@playwright/test';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { probeVideo } from '../../src/record/index.js';
import { runFixtureSuite, stepTitles } from './nested/fixtures-support/run.js';

test.describe.configure({ timeout: 8 * 60_000 });

/** Every file under dir whose name ends with `suffix`. */
function find(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
}

test("video: 'retain-on-failure' keeps and attaches the failing test's video and deletes the passing one's", async ({}, testInfo) => {
  const { run, out, report } = await runFixtureSuite(testInfo, 'fixtures-video');
  expect(run.exitCode, run.all).toBe(1);
  const tests = report();
  const passed = tests.find((t) => t.title.startsWith('passes'))!.results[0]!;
  const failed = tests.find((t) => t.title.startsWith('fails'))!.results[0]!;
  expect(passed.status).toBe('passed');
  expect(failed.status).toBe('failed');
  expect(passed.attachments.filter((a) => a.name === 'video')).toEqual([]);
  const videos = failed.attachments.filter((a) => a.name === 'video');
  expect(videos).toHaveLength(1);
  expect(videos[0]?.contentType).toBe('video/mp4');
  // The only video left in the output is the failing test's.
  expect(find(join(out, 'test-results'), '.mp4')).toEqual([videos[0]?.path]);
  const info = await probeVideo(videos[0]!.path!);
  expect(info.codec).toBe('h264');
  expect(info.durationSec).toBeGreaterThan(1);
  expect(info.width).toBeGreaterThanOrEqual(640);
});

test('the HTML report of a demo run holds its video and its steps', async ({}, testInfo) => {
  const { run, out, report } = await runFixtureSuite(testInfo, 'fixtures-report');
  expect(run.exitCode, run.all).toBe(0);
  const result = report()[0]!.results[0]!;

  // Steps: every vm action, nested under the section that recorded it.
  const steps = stepTitles(result.steps);
  expect(steps).toContain('record hello');
  expect(steps).toContain(`  type 'echo hello from the report\\n'`);
  expect(steps).toContain('record goodbye');
  expect(steps).toContain(`  type 'echo goodbye\\n'`);
  expect(steps).toContain('  pause 500 ms');

  // The whole-test video (video: 'on') is attached and plays.
  const video = result.attachments.find((a) => a.name === 'video')!;
  expect(video.contentType).toBe('video/mp4');
  expect((await probeVideo(video.path!)).durationSec).toBeGreaterThan(2);

  // The HTML report copied it into its data folder.
  const data = join(out, 'html', 'data');
  const reportVideos = find(data, '.mp4');
  expect(reportVideos).toHaveLength(1);
  expect(statSync(reportVideos[0]!).size).toBe(statSync(video.path!).size);
  expect(existsSync(join(out, 'html', 'index.html'))).toBe(true);

  // The demo's sections and their join (written when the worker closed the file's demo).
  const demoDir = join(out, 'demo-videos', 'report-demo');
  for (const f of ['hello.mp4', 'goodbye.mp4', 'report-demo.mp4']) expect(existsSync(join(demoDir, f)), f).toBe(true);
  const joined = await probeVideo(join(demoDir, 'report-demo.mp4'));
  expect(joined.chapters.map((c) => c.title)).toEqual(['hello', 'goodbye']);
});
