import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { BootError, startDemo } from '../../src/index.js';
import { runFixtureSuite } from './nested/fixtures-support/run.js';
import { domains } from './support/host.js';

// Readiness for a guest of your own: no serial marker to wait for, a picture on the screen instead.
test.describe.configure({ mode: 'serial', timeout: 6 * 60_000 });

/** A picture tiny never shows: a magenta square. */
async function neverShownNeedle(dir: string): Promise<string> {
  const file = join(dir, 'magenta.png');
  await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 255, g: 0, b: 255, alpha: 1 } } })
    .png()
    .toFile(file);
  return file;
}

test('a cold boot is ready once its needle shows, and takes keys at once', async ({}, testInfo) => {
  const needle = testInfo.outputPath('tiny-prompt.png');
  await startDemo('ready-needle', { outputDir: testInfo.outputPath('out') }, async (demo) => {
    // The needle: tiny's prompt, without the blinking cursor after it.
    const first = await demo.vm('tiny');
    await first.screenshot({ path: needle, clip: { x: 0, y: 0, width: 44, height: 14 } });
    await first.close();

    const vm = await demo.vm('tiny', { start: 'cold', ready: { needle } });
    expect(vm.started).toBe('cold');
    expect(await vm.findImage(needle)).not.toBeNull();
    await vm.keyboard.type('echo NEEDLE-$((6*7)) > /dev/ttyS0\n', { delay: 0 });
    await vm.waitForSerial(/NEEDLE-42/);
  });
});

test('a needle that never shows times out with the last screen and leaves no VM', async ({}, testInfo) => {
  const needle = await neverShownNeedle(testInfo.outputPath());
  const error = await startDemo('ready-needle-never', { outputDir: testInfo.outputPath('out') }, (demo) =>
    demo.vm('tiny', { start: 'cold', bootTimeout: 25_000, ready: { needle } }),
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BootError);
  const boot = error as BootError;
  expect(boot.code).toBe('EBOOTTIMEOUT');
  expect(boot.hint).toContain(`last screenshot: ${boot.screenshotPath}`);
  expect(existsSync(boot.screenshotPath!)).toBe(true);
  // The last screen is the guest's, not a black frame: tiny's prompt is on it.
  const { channels } = await sharp(boot.screenshotPath).stats();
  expect(channels[0]!.max).toBeGreaterThan(100);
  // Only this demo's VMs count: another worker's come and go meanwhile.
  expect((await domains()).filter((d) => d.startsWith('demo-ready-needle-never-'))).toEqual([]);
});

test('in the fixtures, a boot that failed attaches its last screen and serial log to the report', async ({}, testInfo) => {
  const needle = await neverShownNeedle(testInfo.outputPath());
  const { run, report } = await runFixtureSuite(testInfo, 'fixtures-boot-failure', [], { NEVER_NEEDLE: needle });
  expect(run.exitCode, run.all).toBe(1);
  const result = report()[0]?.results[0];
  expect(result?.errors.map((e) => e.message).join('\n')).toMatch(/was not ready within 20000 ms/);
  const attachments = Object.fromEntries((result?.attachments ?? []).map((a) => [a.name, a]));
  const screen = attachments['boot failure: last screen'];
  expect(screen?.contentType).toBe('image/png');
  expect(existsSync(screen!.path!)).toBe(true);
  expect((await sharp(screen!.path!).metadata()).width).toBe(720);
  expect(attachments['boot failure: serial log']?.contentType).toBe('text/plain');
});
