import { test, expect } from '../../../../fixtures/index.js';

// Typing 40 keys with a 100 ms gap takes 4 s: the test ends long before.
test('forgets an await', async ({ vm }) => {
  vm.keyboard.type('echo this line was typed without await....', { delay: 100 });
});

// The same file's VM stays usable for the next test.
test('the next test still works', async ({ vm }) => {
  await vm.keyboard.type('echo NEXT TEST > /dev/ttyS0\n', { delay: 0 });
  expect((await vm.waitForSerial(/NEXT TEST/))[0]).toBe('NEXT TEST');
});
