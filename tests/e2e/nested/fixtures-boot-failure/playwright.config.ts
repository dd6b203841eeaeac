import { nestedConfig } from '../fixtures-support/config.js';

// A needle the guest never shows (NEVER_NEEDLE, written by the outer test): the boot times out.
export default nestedConfig({
  use: { bootTimeout: 20_000, vmOptions: { start: 'cold', ready: { needle: process.env.NEVER_NEEDLE! } } },
});
