import { test, expect } from '../../../../fixtures/index.js';
import { UsageError, type Vm } from '../../../../src/index.js';

// A page that renders the same every time (no network, no animation); CHANGED recolours it.
const html = (colour: string) =>
  `<html><body style="margin:0;background:#fff"><h1 style="font:32px sans-serif;color:${colour}">demotool and a browser</h1></body></html>`;

test("a page keeps Playwright's own toHaveScreenshot", async ({ page }) => {
  await page.setViewportSize({ width: 400, height: 200 });
  await page.setContent(html(process.env.CHANGED ? '#c00' : '#036'));
  await expect(page).toHaveScreenshot('page.png', { timeout: 3000 });
});

test('.not reaches Playwright too', async ({ page }) => {
  test.skip(!process.env.CHANGED, 'only in the run where the page changed');
  await page.setViewportSize({ width: 400, height: 200 });
  await page.setContent(html('#c00'));
  await expect(page).not.toHaveScreenshot('page.png', { timeout: 3000 });
});

test('VM matchers refuse a page with a UsageError', async ({ page }) => {
  await page.setContent(html('#036'));
  const asVm = page as unknown as Vm;
  const text = await expect(asVm)
    .toShowText('demotool')
    .catch((e: Error) => e);
  expect(text).toBeInstanceOf(UsageError);
  expect(String(text)).toMatch(/toShowText\(\) needs a VM as its receiver, got Page/);
  const needle = await expect(asVm)
    .not.toMatchScreen(Buffer.alloc(0))
    .catch((e: Error) => e);
  expect(String(needle)).toMatch(/toMatchScreen\(\) needs a VM as its receiver, got Page/);
});
