import { nestedConfig } from '../fixtures-support/config.js';

// A short test timeout for the whole project too: the time Playwright gives fixtures after a
// timed-out test is the larger of the two, and the artifacts must not depend on it.
export default nestedConfig({ timeout: 15_000, use: { video: 'on', screenshot: 'only-on-failure' } });
