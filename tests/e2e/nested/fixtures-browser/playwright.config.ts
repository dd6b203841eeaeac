import { nestedConfig } from '../fixtures-support/config.js';

// Debian's chromium, not a browser Playwright downloads; as root it needs --no-sandbox.
export default nestedConfig({
  timeout: 60_000,
  snapshotPathTemplate: `${process.env.SNAP_DIR}/{arg}{ext}`,
  use: {
    launchOptions: { executablePath: '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] },
  },
});
