// A run that boots tiny, says which VM it has, and waits to be killed (SIGKILL: nothing cleans up).
import { startDemo } from '../../../src/index.js';

await startDemo('stale-owner', { outputDir: process.argv[2] }, (demo) =>
  demo.vm('tiny', { resources: { memoryMiB: 512 } }, async (vm) => {
    console.log(`VM ${vm.name}`);
    await new Promise(() => undefined);
  }),
);
