import { test, expect } from '../../../../fixtures/index.js';

/** The console after `clear; echo TEXT`; the blinking cursor is the only thing that moves. */
async function show(vm: import('../../../../src/index.js').Vm, text: string) {
  await vm.keyboard.type(`clear; echo ${text}\n`, { delay: 0 });
  await vm.waitForStableScreen({ duration: 800 }).catch(() => undefined);
}

// A few dozen pixels for the cursor; a changed line of text is hundreds.
const tolerance = { maxDiffPixels: 60 };

test('matches the baseline', async ({ vm }) => {
  await show(vm, 'the same screen every time');
  await expect(vm).toHaveScreenshot('console.png', tolerance);
});

test('a changed screen fails with diff images', async ({ vm }) => {
  test.skip(!process.env.CHANGED, 'only in the run that checks failures');
  await show(vm, 'A DIFFERENT LINE OF TEXT ON THE SCREEN');
  await expect(vm).toHaveScreenshot('console.png', { ...tolerance, timeout: 3000 });
});
