import { test, expect } from '../../../../fixtures/index.js';

test('passes: its video is deleted', async ({ vm }) => {
  await vm.keyboard.type('echo this video is not kept\n', { delay: 50 });
});

test('fails: its video is kept and attached', async ({ vm }) => {
  await vm.keyboard.type('echo this video is kept\n', { delay: 50 });
  expect(1, 'a deliberate failure').toBe(2);
});
