import { test } from '../../../../fixtures/index.js';

test('never gets its VM', async ({ vm }) => {
  await vm.keyboard.type('echo UNREACHABLE\n');
});
