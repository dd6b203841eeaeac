// A screenshot-regression suite over `debian-12-desktop`. Baselines are committed in
// demos/regression.spec.ts-snapshots/ (snapshotPathTemplate in playwright.config.ts); refresh
// them with `npx playwright test --project=demos demos/regression.spec.ts -u` and look at them.
//
// What could make a clean machine differ: xterm's text cursor changes shape with focus (so it is
// masked), and a pointer left over a window could highlight something (so it is parked in a
// corner; the pointer itself is not in screenshots). Nothing else moves: no clock, no blinking.
// The budgets are tight enough that three letters on screen fail the comparison; the last test
// proves it.
import { readFileSync } from 'node:fs';
import { test, expect, compareScreenshots } from 'demotool/test';

test.use({ vmImage: 'debian-12-desktop' });

const PARK = { x: 1200, y: 760 };
/** The xterm's text cursor, right after the prompt "demo@demo-desktop:~$ ". */
const XTERM_CURSOR = { x: 226, y: 120, width: 12, height: 18 };
const DESKTOP = { mask: [XTERM_CURSOR], maxDiffPixels: 40 };
const MENU_AT = { x: 820, y: 480 };
const MENU_CLIP = { x: MENU_AT.x - 10, y: MENU_AT.y - 10, width: 140, height: 180 };

test.beforeEach(async ({ vm }) => {
  await vm.exec('xdotool search --sync --onlyvisible --class xterm');
  await vm.mouse.move(PARK.x, PARK.y, { duration: 0 });
});

test('the desktop after login: blue root, one xterm with a prompt', async ({ vm }) => {
  await expect(vm).toHaveScreenshot('desktop.png', DESKTOP);
});

test("openbox's root menu", async ({ vm }) => {
  await vm.mouse.click(MENU_AT.x, MENU_AT.y, { button: 'right' });
  await expect(vm).toHaveScreenshot('root-menu.png', { clip: MENU_CLIP, maxDiffPixels: 10 });
  await vm.keyboard.press('Escape');
  await vm.mouse.move(PARK.x, PARK.y, { duration: 0 });
  await expect(vm).toHaveScreenshot('desktop.png', DESKTOP);
});

test('the budgets hold still on an idle screen but catch one short word', async ({ vm }, testInfo) => {
  const baseline = readFileSync(testInfo.snapshotPath('desktop.png', { kind: 'screenshot' }));
  // Idle: several looks over two seconds all pass.
  for (let i = 0; i < 4; i++) {
    expect(compareScreenshots(baseline, await vm.screenshot(), DESKTOP).pass).toBe(true);
    await vm.pause(500);
  }
  // A real change: three letters typed at the prompt.
  await vm.mouse.click(340, 270);
  await vm.keyboard.type('abc', { delay: 0 });
  await vm.mouse.move(PARK.x, PARK.y, { duration: 0 });
  await vm.waitForStableScreen({ duration: 500 });
  const changed = compareScreenshots(baseline, await vm.screenshot(), DESKTOP);
  expect(changed.pass).toBe(false);
  expect(changed.diffPixels).toBeGreaterThan(2 * DESKTOP.maxDiffPixels);
  await vm.keyboard.press('Control+U'); // leave the prompt as it was
});
