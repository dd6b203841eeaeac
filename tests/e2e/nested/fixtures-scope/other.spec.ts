import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '../../../../fixtures/index.js';
import { note } from './record.js';

test('other file', async ({ vm, _demotoolFiles }, testInfo) => {
  await note(testInfo, vm, _demotoolFiles.boots);
  writeFileSync(join(process.env.NESTED_OUT!, 'other-started'), '');
  // Stay up until the first file is done with its first test.
  await new Promise((r) => setTimeout(r, 3000));
});
