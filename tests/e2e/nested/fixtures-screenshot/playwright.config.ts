import { nestedConfig } from '../fixtures-support/config.js';

export default nestedConfig({
  expect: { timeout: 10_000 },
  // Baselines in a directory of the outer test's choosing; {testFileName} proves the template is applied.
  snapshotPathTemplate: `${process.env.SNAP_DIR}/{testFileName}/{arg}{ext}`,
});
