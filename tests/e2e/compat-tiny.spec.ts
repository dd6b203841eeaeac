import { test, expect } from '@playwright/test';
import { startDemo, type DemoSession, type Vm } from '../../src/index.js';
import { withOriginalNames } from '../../src/compat/index.js';

// demotool/compat on a real guest: the original verbs type into tiny's shell, and what
// arrives on the serial port shows the keys were sent as meant.
test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });

let demo: DemoSession | undefined;
let booted: Vm | undefined;
function vm(): Vm {
  if (!booted) throw new Error('the VM did not boot');
  return booted;
}

test.beforeAll(async ({}, testInfo) => {
  testInfo.setTimeout(5 * 60_000);
  demo = await startDemo('compat-tiny', { outputDir: testInfo.outputPath('videos'), artifactsDir: testInfo.outputPath('artifacts') });
  booted = await demo.vm('tiny');
});

test.afterAll(async () => {
  await demo?.close();
});

test('type, keyPress and keyCombo reach the guest as typed', async () => {
  const v = withOriginalNames(vm());
  const from = vm().serial.mark();
  await v.type('cat > /dev/ttyS0', { delay: 0 });
  await v.keyPress('Enter');
  await v.pause(300);
  await v.type('compat-Line 1', { delay: 0 });
  await v.keyPress('Enter');
  await v.keyCombo('Control', 'd'); // end of input: cat exits
  await v.type('echo compat-done-$((6*7)) > /dev/ttyS0', { delay: 0 });
  await v.keyPress('Enter');
  await vm().waitForSerial(/compat-done-42/, { from });
  expect(vm().serial.text().slice(from)).toMatch(/compat-Line 1\r?\n/);
});

test('waitForScreenChange runs the action after taking its baseline', async () => {
  const changed = await vm().waitForScreenChange(async () => {
    await vm().keyboard.type('echo screen-changed\n', { delay: 0 });
    return 'typed';
  });
  expect(changed).toBe('typed');
  // A still screen and an action that changes nothing: no change, whatever the cursor does.
  await vm().waitForStableScreen();
  await expect(vm().waitForScreenChange(async () => undefined, { timeout: 1_500 })).rejects.toThrow(/a change on screen did not happen within 1500 ms/);
});

test('findImage finds a piece of the screen as it is now; captureScreen is a screenshot', async () => {
  await vm().waitForStableScreen();
  const clip = { x: 0, y: 0, width: 200, height: 60 };
  const piece = await withOriginalNames(vm()).captureScreen();
  expect(piece.subarray(1, 4).toString()).toBe('PNG');
  const needle = await vm().screenshot({ clip });
  const found = await vm().findImage(needle, { threshold: 0.9 });
  expect(found).not.toBeNull();
  expect(found?.similarity).toBeGreaterThanOrEqual(0.9);
});
