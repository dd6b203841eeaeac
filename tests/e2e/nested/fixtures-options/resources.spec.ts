/** A bad worker option (a file of its own: it forces a worker of its own): the test fails with a UsageError naming it, before any VM boots. */
import { test } from '../../../../fixtures/index.js';

test.use({ vmResources: { cpus: '2' } as never });

test('vmResources string', async ({ vm }) => {
  test.info().annotations.push({ type: 'booted', description: vm.name });
});
