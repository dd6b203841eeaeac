/**
 * The technicians' status page at `/`, in a real browser (Debian's chromium), on a real tiny
 * guest whose heartbeat comes over its serial port: live state and heartbeat age, the live
 * thumbnail, and the controls with and without the token. One VM for the file.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { test, expect } from '../../fixtures/index.js';
import type { Vm } from '../../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'status-page-token-0123456789';
const HEARTBEAT_TIMEOUT = 5_000;

test.describe.configure({ mode: 'serial', timeout: 3 * 60_000 });
test.skip(!existsSync(CHROMIUM), `needs ${CHROMIUM} (Debian: apt-get install chromium)`);
test.use({
  vmImage: 'tiny',
  vmResources: { memoryMiB: 512 },
  vmOptions: { guestMonitors: { transport: 'serial' } },
  watchdogOptions: { heartbeatTimeout: HEARTBEAT_TIMEOUT, grace: 3_000, api: { host: '127.0.0.1', port: 0, token: TOKEN } },
});

let browser: Browser;
test.beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
test.afterAll(async () => {
  await browser?.close();
});

/** The page in a fresh context (its own sessionStorage), with every main-frame navigation counted. */
async function openPage(url: string): Promise<{ page: Page; navigations: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
  await page.goto(`${url}/`);
  return { page, navigations };
}

/** Type a command on the guest's console (tty1). */
async function sh(vm: Vm, command: string): Promise<void> {
  await vm.keyboard.type(`${command}\n`, { delay: 0 });
}

/** Seconds in the page's heartbeat age ("2.4 s ago"). */
async function heartbeatAge(page: Page): Promise<number> {
  const text = (await page.locator('#heartbeat-age').textContent()) ?? '';
  const match = /([\d.]+) s/.exec(text);
  if (!match) throw new Error(`no age in ${JSON.stringify(text)}`);
  return Number(match[1]);
}

/** Runs in the page (this project's TypeScript has no DOM types): the thumbnail's size, colour count and a hash of its pixels. */
const PICTURE = `(() => {
  const img = document.getElementById('screen');
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  if (!canvas.width) return { width: 0, colours: 0, hash: '' };
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let hash = 0;
  for (let i = 0; i < data.length; i += 4) {
    const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    colours.add(rgb);
    hash = (hash * 31 + rgb) | 0;
  }
  return { width: img.naturalWidth, colours: colours.size, hash: String(hash) };
})()`;

/** The thumbnail as the page shows it. */
function shownPicture(page: Page): Promise<{ width: number; colours: number; hash: string }> {
  return page.evaluate(PICTURE) as Promise<{ width: number; colours: number; hash: string }>;
}

test('the state and the heartbeat age update live, without a reload', async ({ vm, watchdog }) => {
  const { page, navigations } = await openPage(watchdog.url!);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(vm.name);
  await expect(page.locator('#connection')).toHaveText('live');
  await expect(page.locator('#state')).toHaveText('healthy', { timeout: 30_000 });
  const firstAge = await page.locator('#heartbeat-age').textContent();
  await expect.poll(() => page.locator('#heartbeat-age').textContent(), { timeout: 5_000 }).not.toBe(firstAge);

  // Auto-revert off from the page (it asks first), then the guest's heartbeat stops: the page
  // shows the timeout and an age that keeps growing, and nothing reverts.
  await page.getByLabel('Control token').fill(TOKEN);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Auto-revert off' }).click();
  await expect(page.getByRole('status')).toContainText('Automatic revert disabled');
  await expect(page.locator('#auto-revert')).toHaveText('off');
  expect(watchdog.autoRevert).toBe(false);

  await sh(vm, 'demotool-guest stop');
  await expect(page.locator('#state')).toHaveText('timed-out', { timeout: HEARTBEAT_TIMEOUT + 10_000 });
  const stale = await heartbeatAge(page);
  expect(stale).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT / 1000);
  await expect.poll(() => heartbeatAge(page), { timeout: 5_000 }).toBeGreaterThanOrEqual(stale + 2);
  expect(watchdog.reverts).toHaveLength(0);
  expect(navigations).toEqual([`${watchdog.url}/`]);

  // Back to the snapshot (its heartbeat runs) for the next tests.
  await watchdog.revert('test cleanup');
  await expect(page.locator('#state')).toHaveText('healthy', { timeout: 30_000 });
  expect(navigations).toHaveLength(1);
  await page.close();
});

test('the thumbnail shows the guest, and follows its screen', async ({ vm, watchdog }) => {
  const { page } = await openPage(watchdog.url!);
  const screen = PNG.sync.read(await vm.screenshot());
  await expect.poll(async () => (await shownPicture(page)).width, { timeout: 15_000 }).toBe(screen.width);
  const before = await shownPicture(page);
  // Text on the console: more than one colour.
  expect(before.colours).toBeGreaterThan(1);

  await sh(vm, 'echo the page follows the screen');
  await expect.poll(async () => (await shownPicture(page)).hash, { timeout: 15_000 }).not.toBe(before.hash);
  await expect(page.locator('#screen-caption')).toContainText('updated');
  await page.close();
});

test('a revert from the page needs the token and a confirmation; then it reverts and shows in the history', async ({ watchdog }, testInfo) => {
  const { page } = await openPage(watchdog.url!);
  await expect(page.locator('#state')).toHaveText('healthy', { timeout: 30_000 });
  const before = watchdog.reverts.length;
  const revertButton = page.getByRole('button', { name: 'Revert now' });
  const result = page.getByRole('status');

  // No token: the API's 401 shows, and nothing reverts.
  page.once('dialog', (dialog) => void dialog.accept());
  await revertButton.click();
  await expect(result).toContainText('refused (401)');
  await expect(result).toContainText('this action needs the control token');
  expect(watchdog.reverts).toHaveLength(before);

  // The token, but the confirmation declined: nothing is sent.
  await page.getByLabel('Control token').fill(TOKEN);
  const question = new Promise<string>((resolve) =>
    page.once('dialog', (dialog) => {
      resolve(dialog.message());
      void dialog.dismiss();
    }),
  );
  await revertButton.click();
  expect(await question).toMatch(/Revert the VM to its snapshot/);
  await expect(result).toContainText('cancelled');
  expect(watchdog.reverts).toHaveLength(before);

  // The token and yes: one manual revert.
  page.once('dialog', (dialog) => void dialog.accept());
  await revertButton.click();
  await expect(result).toContainText('restarted successfully', { timeout: 60_000 });
  expect(watchdog.reverts).toHaveLength(before + 1);
  expect(watchdog.reverts.at(-1)).toMatchObject({ reason: 'manual', detail: 'control API', ok: true });

  const history = page.getByRole('table', { name: 'Revert history' });
  const row = history.getByRole('row').filter({ hasText: 'control API' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('manual');
  await expect(row).toContainText(watchdog.reverts.at(-1)!.method);
  await expect(row).toContainText(/recovered/, { timeout: 30_000 });
  await expect(page.locator('#revert-count')).toHaveText(String(before + 1));

  await page.screenshot({ path: testInfo.outputPath('status-page.png'), fullPage: true });
  await page.close();
});
