// A separate process that boots `tiny` (warm, or cold with START=cold) and then waits forever; the tests kill it mid-boot.
import { startDemo } from '../../../src/index.js';

const name = process.argv[2] ?? 'killed-run';
const start = process.env.START === 'cold' ? 'cold' : 'warm';
await startDemo(name, { outputDir: process.env.OUT_DIR }, async (demo) => {
  await demo.vm('tiny', { start }, async () => {
    console.log('boot-tiny: in the VM body');
    await new Promise(() => undefined);
  });
});
