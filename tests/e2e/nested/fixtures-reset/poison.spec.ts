import { test, expect } from '../../../../fixtures/index.js';
import { note } from '../fixtures-scope/record.js';

test('leaves state behind', async ({ vm, _demotoolFiles }, testInfo) => {
  await vm.keyboard.type('export POISON=yes\n', { delay: 0 });
  await note(testInfo, vm, _demotoolFiles.boots);
});

test('fails', async ({ vm, _demotoolFiles }, testInfo) => {
  await note(testInfo, vm, _demotoolFiles.boots);
  await vm.keyboard.type('echo this test fails on purpose\n', { delay: 0 });
  expect(1, 'a deliberate failure').toBe(2);
});

test('runs on a fresh VM after the failure', async ({ vm, _demotoolFiles }, testInfo) => {
  const from = vm.serial.mark();
  await vm.keyboard.type('echo "poison=[$POISON]" > /dev/ttyS0\n', { delay: 0 });
  const m = await vm.waitForSerial(/poison=\[(\w*)\]/, { from });
  await note(testInfo, vm, _demotoolFiles.boots, { poison: m[1] });
});
