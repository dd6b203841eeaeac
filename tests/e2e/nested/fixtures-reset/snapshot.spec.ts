import { test } from '../../../../fixtures/index.js';
import { note } from '../fixtures-scope/record.js';

test.use({ vmReset: 'snapshot' });

test('changes the shell', async ({ vm, _demotoolFiles }, testInfo) => {
  await vm.keyboard.type('export MARK=set-by-first\n', { delay: 0 });
  const from = vm.serial.mark();
  await vm.keyboard.type('echo "mark=[$MARK]" > /dev/ttyS0\n', { delay: 0 });
  const m = await vm.waitForSerial(/mark=\[([\w-]*)\]/, { from });
  await note(testInfo, vm, _demotoolFiles.boots, { mark: m[1] });
});

test('starts from the snapshot taken after boot', async ({ vm, _demotoolFiles }, testInfo) => {
  const from = vm.serial.mark();
  await vm.keyboard.type('echo "mark=[$MARK]" > /dev/ttyS0\n', { delay: 0 });
  const m = await vm.waitForSerial(/mark=\[([\w-]*)\]/, { from });
  await note(testInfo, vm, _demotoolFiles.boots, { mark: m[1] });
});
