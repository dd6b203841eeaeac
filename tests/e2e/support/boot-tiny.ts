// A separate process that boots `tiny` and then waits forever; the tests kill it mid-boot.
import { startDemo } from '../../../src/index.js';

const name = process.argv[2] ?? 'killed-run';
await startDemo(name, { outputDir: process.env.OUT_DIR }, async (demo) => {
  await demo.vm('tiny', async () => {
    console.log('READY');
    await new Promise(() => undefined);
  });
});
