// One "npm run demo"-style run in a process of its own: a tiny VM, one recorded section.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../../../src/index.js';

const out = process.argv[2]!;
await startDemo('two-runs', { outputDir: out }, (demo) =>
  demo.vm('tiny', { resources: { memoryMiB: 512 } }, async (vm) => {
    const result = await vm.record('typing', async () => {
      await vm.keyboard.type('echo hello from this run\n', { delay: 20 });
      await vm.pause(1_500);
    });
    writeFileSync(join(out, 'run.json'), JSON.stringify({ vm: vm.name, video: result.path, pid: process.pid }));
  }),
);
