import { writeFileSync } from 'node:fs';
import { test } from '../../../../fixtures/index.js';

// The outer test presses Ctrl-C during the pause, once this note is written.
test('records a long section', async ({ vm }) => {
  await vm.record('sec', async () => {
    writeFileSync(`${process.env.NESTED_OUT}/recording.json`, JSON.stringify({ vm: vm.name }));
    await vm.pause(60_000);
  });
});
