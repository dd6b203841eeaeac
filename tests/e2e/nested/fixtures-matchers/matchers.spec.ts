import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { test, expect } from '../../../../fixtures/index.js';
import { UsageError } from '../../../../src/index.js';

// Each test checks a pass and a failure of one matcher; failures are caught and their messages checked.
test.beforeEach(async ({ vm }) => {
  await vm.keyboard.type('clear; echo MATCHERS 4242\n', { delay: 0 });
  await vm.waitForStableScreen({ duration: 500 });
});

test('toShowText and .not.toShowText', async ({ vm }) => {
  await expect(vm).toShowText(/MATCHERS 4242/);
  await expect(vm).not.toShowText(/NOT ON SCREEN/, { timeout: 5000 });
  const missing = await expect(vm)
    .toShowText(/NOT ON SCREEN/, { timeout: 1500 })
    .catch((e: Error) => e);
  expect(String(missing)).toMatch(/Expected the screen to show text matching \/NOT ON SCREEN\/ within 1500 ms/);
  expect(String(missing)).toMatch(/last text read: .*MATCHERS 4242/);
  const still = await expect(vm)
    .not.toShowText(/MATCHERS 4242/, { timeout: 1000 })
    .catch((e: Error) => e);
  expect(String(still)).toMatch(/not to show .* but after 1000 ms it still read/);
});

test('toMatchScreen and .not.toMatchScreen with a needle cut from the screen', async ({ vm }, testInfo) => {
  const region = { x: 0, y: 0, width: 200, height: 40 };
  const needle = await vm.screenshot({ clip: region });
  await expect(vm).toMatchScreen(needle, { region });
  // The same needle with its colours inverted is nowhere on screen.
  const png = PNG.sync.read(needle);
  for (let i = 0; i < png.data.length; i += 4) for (let c = 0; c < 3; c++) png.data[i + c] = 255 - (png.data[i + c] ?? 0);
  const inverted = PNG.sync.write(png);
  await expect(vm).not.toMatchScreen(inverted, { region, timeout: 2000 });
  const failure = await expect(vm)
    .toMatchScreen(inverted, { region, timeout: 1500 })
    .catch((e: Error) => e);
  expect(String(failure)).toMatch(/Expected the screen to show <png buffer> within 1500 ms/);
  expect(String(failure)).toMatch(/best similarity 0\.\d+ at \d+,\d+, needed 0\.95/);
  expect(testInfo.attachments.map((a) => a.name)).toEqual(expect.arrayContaining(['screen-actual.png', 'screen-diff.png']));
  const still = await expect(vm)
    .not.toMatchScreen(needle, { region, timeout: 1000 })
    .catch((e: Error) => e);
  // Still matched: at or above the 0.95 threshold (the prompt's blinking cursor is inside the needle).
  expect(String(still)).toMatch(/not to show, but after 1000 ms it still matched \(similarity (1\.000|0\.9[5-9]\d)\)/);
});

test('.not.toHaveScreenshot waits until the screen differs from the baseline; without a baseline it is a UsageError', async ({ vm }) => {
  const noBaseline = await expect(vm)
    .not.toHaveScreenshot('never-written.png', { timeout: 60_000 })
    .catch((err: Error) => err);
  expect(noBaseline).toBeInstanceOf(UsageError);
  expect(String(noBaseline)).toMatch(/no baseline at .*never-written\.png for the screen to differ from/);
  const tolerance = { maxDiffPixels: 60 };
  // The baseline: the screen as it is now (the cursor's blink is within the tolerance).
  const baseline = test.info().snapshotPath('now.png', { kind: 'screenshot' });
  mkdirSync(dirname(baseline), { recursive: true });
  writeFileSync(baseline, await vm.screenshot());
  const same = await expect(vm)
    .not.toHaveScreenshot('now.png', { ...tolerance, timeout: 1500 })
    .catch((err: Error) => err);
  expect(String(same)).toMatch(/Expected the screen to differ from .*now\.png, but after 1500 ms it still matched it/);
  const typed = expect(vm).not.toHaveScreenshot('now.png', { ...tolerance, timeout: 20_000 });
  await vm.keyboard.type('echo A LINE THAT CHANGES THE SCREEN\n', { delay: 0 });
  await typed;
});

test('misuse throws a UsageError at once: a receiver that is not a VM, a reference file that does not exist', async ({ vm }) => {
  const started = Date.now();
  const notVm = await expect('a string' as unknown as typeof vm)
    .toShowText(/x/)
    .catch((e: Error) => e);
  expect(notVm).toBeInstanceOf(UsageError);
  expect(String(notVm)).toMatch(/toShowText\(\) needs a VM as its receiver, got string/);
  const notVmNot = await expect({} as typeof vm)
    .not.toMatchScreen(Buffer.alloc(0))
    .catch((e: Error) => e);
  expect(String(notVmNot)).toMatch(/toMatchScreen\(\) needs a VM as its receiver, got Object/);
  const missing = await expect(vm)
    .toMatchScreen('/nonexistent/needle.png', { timeout: 60_000 })
    .catch((e: Error) => e);
  expect(missing).toBeInstanceOf(UsageError);
  expect(String(missing)).toMatch(/reference image \/nonexistent\/needle\.png does not exist/);
  const missingNot = await expect(vm)
    .not.toMatchScreen('/nonexistent/needle.png', { timeout: 60_000 })
    .catch((e: Error) => e);
  expect(missingNot).toBeInstanceOf(UsageError);
  // Neither waited for the timeout.
  expect(Date.now() - started).toBeLessThan(10_000);
});
