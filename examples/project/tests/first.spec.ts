import { test, expect } from 'demotool/test';

test('types a command in the VM and reads its output off the screen', async ({ vm }) => {
  await vm.keyboard.type('echo "$((6 * 7)) from the guest"\n');
  await expect(vm).toShowText(/42 from the guest/);
});
