import { nestedConfig } from '../fixtures-support/config.js';

const out = process.env.NESTED_OUT!;
export default nestedConfig({
  reporter: [
    ['json', { outputFile: `${out}/report.json` }],
    ['html', { outputFolder: `${out}/html`, open: 'never' }],
  ],
});
