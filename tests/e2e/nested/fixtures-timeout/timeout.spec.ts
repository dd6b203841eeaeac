import { test } from '../../../../fixtures/index.js';

// The boot takes longer than the test's 15 s under TCG: it is not the test's time.
test('times out while the VM is busy', async ({ vm }) => {
  await vm.keyboard.type('echo TIMED OUT HERE > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/TIMED OUT HERE/);
  await new Promise(() => undefined);
});
