import { nestedConfig } from '../fixtures-support/config.js';

// Baselines the tests write go to the run's output, never next to the spec.
export default nestedConfig({ snapshotPathTemplate: `${process.env.NESTED_OUT}/snapshots/{arg}{ext}` });
