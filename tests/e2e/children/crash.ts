// Boots a tiny VM, prints its name, then ends the process the way the first argument says:
// an uncaught exception, an unhandled rejection, or process.exit() — none runs async cleanups.
import { startDemo } from '../../../src/index.js';

const how = process.argv[2];
const demo = await startDemo('crash', { outputDir: process.argv[3]! });
const vm = await demo.vm('tiny', { resources: { memoryMiB: 512 } });
process.stdout.write(JSON.stringify({ vm: vm.name }) + '\n');
if (how === 'exception')
  setTimeout(() => {
    throw new Error('boom');
  }, 10);
else if (how === 'rejection') void Promise.reject(new Error('boom'));
else process.exit(3);
