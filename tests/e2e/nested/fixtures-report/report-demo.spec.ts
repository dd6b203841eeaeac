import { test, expect } from '../../../../fixtures/index.js';

test('a short recorded demo', async ({ vm }) => {
  await vm.keyboard.type('clear\n', { delay: 0 });
  await vm.record('hello', async () => {
    await vm.keyboard.type('echo hello from the report\n', { delay: 40 });
    await expect(vm).toShowText(/hello from the report/);
  });
  await vm.record('goodbye', async () => {
    await vm.keyboard.type('echo goodbye\n', { delay: 40 });
    await vm.pause(500);
  });
});
