import { test, expect } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { probeVideo } from '../../src/record/index.js';
import { runFixtureSuite } from './nested/fixtures-support/run.js';

test.describe.configure({ timeout: 8 * 60_000 });

test('a test that times out still gets its video, screenshot and serial log tail; the boot is not its time', async ({}, testInfo) => {
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-timeout');
  expect(run.exitCode, run.all).toBe(1);
  const result = report()[0]?.results[0];
  expect(result?.status, run.all).toBe('timedOut');
  expect(result?.errors.map((e) => e.message).join('\n')).toMatch(/Test timeout of 15000ms exceeded/);
  const attachments = Object.fromEntries((result?.attachments ?? []).map((a) => [a.name, a]));

  const video = attachments['video'];
  expect(video?.contentType).toBe('video/mp4');
  expect(existsSync(video!.path!)).toBe(true);
  expect((await probeVideo(video!.path!)).durationSec).toBeGreaterThan(5);

  const screenshot = attachments['screenshot'];
  expect(screenshot?.contentType).toBe('image/png');
  expect(existsSync(screenshot!.path!)).toBe(true);

  // The boot's detail is in the report (the terminal shows warnings and errors only).
  const boot = attachments['vm boot'];
  expect(boot?.contentType).toBe('application/json');
  const bootInfo = JSON.parse(Buffer.from(boot?.body ?? '', 'base64').toString('utf8')) as { image: string; timings: Record<string, number> };
  expect(bootInfo.image).toBe('tiny');
  expect(Object.keys(bootInfo.timings).length).toBeGreaterThan(0);
  expect(run.all).not.toMatch(/demotool (info|debug) /);

  const serial = attachments['serial log (tail)'];
  expect(serial?.contentType).toBe('text/plain');
  const tail = serial?.body ? Buffer.from(serial.body, 'base64').toString('utf8') : readFileSync(serial!.path!, 'utf8');
  expect(tail).toContain('TIMED OUT HERE');
});
