import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '../../../../fixtures/index.js';
import { note } from './record.js';

// Three tests, one VM: the second and third find what the first left in the shell.
test('first', async ({ vm, _demotoolFiles }, testInfo) => {
  await note(testInfo, vm, _demotoolFiles.boots);
  await vm.keyboard.type('export LEFT_BY_FIRST=yes\n', { delay: 0 });
  // Wait for the other file's VM, so both are known to run at the same time.
  const other = join(process.env.NESTED_OUT!, 'other-started');
  for (let i = 0; i < 600 && !existsSync(other); i++) await new Promise((r) => setTimeout(r, 200));
  expect(existsSync(other)).toBe(true);
});

test('second', async ({ vm, _demotoolFiles }, testInfo) => {
  const from = vm.serial.mark();
  await vm.keyboard.type('echo "left=[$LEFT_BY_FIRST]" > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/left=\[yes\]/, { from });
  await note(testInfo, vm, _demotoolFiles.boots);
});

test('third', async ({ vm, demo, _demotoolFiles }, testInfo) => {
  expect(vm.demo).toBe(demo);
  await note(testInfo, vm, _demotoolFiles.boots);
});
