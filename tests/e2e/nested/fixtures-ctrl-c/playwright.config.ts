import { nestedConfig } from '../fixtures-support/config.js';

// The line reporter too: the outer test reads what a user would see in the terminal.
export default nestedConfig({
  reporter: [['json', { outputFile: `${process.env.NESTED_OUT}/report.json` }], ['line']],
  use: { video: 'on' },
});
