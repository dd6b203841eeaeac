/** 0 and Infinity mean "no limit" everywhere: a boot and the waits neither hang on 1 ms timers nor fail at once. */
import { test, expect } from '@playwright/test';
import { startDemo } from '../../src/index.js';

test('bootTimeout: Infinity boots; waits with timeout 0 and Infinity wait until the thing happens', async ({}, testInfo) => {
  test.setTimeout(4 * 60_000);
  await startDemo('timeouts', { outputDir: testInfo.outputPath('videos'), artifactsDir: testInfo.outputPath('artifacts') }, (demo) =>
    demo.vm('tiny', { resources: { memoryMiB: 512 }, bootTimeout: Infinity }, async (vm) => {
      const shown = await vm.screenshot();
      await vm.waitForScreen(shown, { timeout: Infinity });
      await vm.waitForScreen(shown, { timeout: 0 });
      const from = vm.serial.mark();
      // The marker arrives a few seconds later: a 0 timeout must wait for it, not fail at once.
      await vm.keyboard.type('sleep 3; echo LATE-$((20+3)) > /dev/ttyS0\n', { delay: 0 });
      await vm.waitForSerial('LATE-23', { from, timeout: 0 });
      await expect(vm.waitForSerial('never', { timeout: -1 })).rejects.toThrow(/timeout must be a number of milliseconds ≥ 0/);
      await expect(vm.waitForScreen(shown, { timeout: '10' as unknown as number })).rejects.toThrow(/0 or Infinity: no limit/);
    }),
  );
});
