/** A mistyped VM option (a file of its own: it forces a worker of its own): the test fails with a UsageError naming it, before any VM boots. */
import { test } from '../../../../fixtures/index.js';

test.use({ vmOptions: { netwrok: 'open' } as never });

test('vmOptions typo', async ({ vm }) => {
  test.info().annotations.push({ type: 'booted', description: vm.name });
});
