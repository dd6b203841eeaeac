/** Each test has a bad test-scoped fixture option: each must fail with a UsageError naming it, before the demo opens. */
import { test } from '../../../../fixtures/index.js';

test.describe(() => {
  test.use({ vmReset: 'snapshots' as never });
  test('vmReset typo', async ({ vm }) => {
    test.info().annotations.push({ type: 'booted', description: vm.name });
  });
});

test.describe(() => {
  test.use({ demoOutputDir: 5 as never });
  test('demoOutputDir number', async ({ demo }) => {
    test.info().annotations.push({ type: 'opened', description: demo.name });
  });
});
