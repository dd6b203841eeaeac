/**
 * The watchdog fixture and toHaveRecovered as a report shows them, on a VM booted with default
 * options and watched after the boot: each revert is a step with the screen before and after
 * (also in the HTML report), and a failing toHaveRecovered lists the reverts that happened.
 */
import { test, expect } from '@playwright/test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { runFixtureSuite, stepTitles, type JsonAttachment } from './nested/fixtures-support/run.js';

test.describe.configure({ timeout: 6 * 60_000 });

// eslint-disable-next-line no-control-regex -- Playwright's error messages carry terminal colours
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** An attachment's bytes: a file, or the body the JSON report carries inline (base64). */
function bytes(attachment: JsonAttachment): Buffer {
  return attachment.path ? readFileSync(attachment.path) : Buffer.from(attachment.body ?? '', 'base64');
}

function png(attachment: JsonAttachment | undefined): PNG {
  expect(attachment?.contentType).toBe('image/png');
  return PNG.sync.read(bytes(attachment!));
}

test('each revert is a report step with the screens; a missing recovery fails with the reverts so far', async ({}, testInfo) => {
  const { run, out, report } = await runFixtureSuite(testInfo, 'fixtures-watchdog');
  // The second nested test fails on purpose.
  expect(run.exitCode, run.all).toBe(1);
  const [recovered, missing] = report();
  expect(recovered!.results[0]!.status, run.all).toBe('passed');
  expect(missing!.results[0]!.status).toBe('failed');

  // The recovery is a step, with the screen when the fault was seen and once the guest was back.
  const result = recovered!.results[0]!;
  expect(stepTitles(result.steps).map((t) => t.trim())).toContainEqual(expect.stringMatching(/^watchdog: reverted \(domain-paused\) by in-place in \d+ ms$/));
  const before = png(result.attachments.find((a) => / before\.png$/.test(a.name)));
  const after = png(result.attachments.find((a) => / after\.png$/.test(a.name)));
  expect(before.width).toBeGreaterThan(0);
  expect([after.width, after.height]).toEqual([before.width, before.height]);
  // Before: the marker typed after the snapshot; after: the snapshot's screen, without it.
  expect(Buffer.compare(before.data, after.data)).not.toBe(0);

  // The HTML report holds both pictures.
  const data = join(out, 'html', 'data');
  const sizes = existsSync(data) ? readdirSync(data).map((f) => statSync(join(data, f)).size) : [];
  for (const a of result.attachments.filter((a) => / (before|after)\.png$/.test(a.name))) expect(sizes).toContain(bytes(a).length);

  // The failure names what was expected and lists the revert that did happen.
  const failed = missing!.results[0]!;
  const message = plain(failed.errors.map((e) => e.message ?? '').join('\n'));
  expect(message).toContain('toHaveRecovered');
  expect(message).toContain('Expected a recovery for guest-panic within 3000 ms');
  expect(message).toContain('Reverts so far:');
  expect(message).toMatch(/- manual \(asked by the test\): in-place in \d+ ms at \S+, guest healthy again/);
  // The manual revert is a step of that test too.
  expect(stepTitles(failed.steps).map((t) => t.trim())).toContainEqual(expect.stringMatching(/^watchdog: reverted \(manual\) by in-place/));
});
