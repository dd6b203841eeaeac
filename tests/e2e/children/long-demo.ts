// A plain startDemo script (no Playwright) whose recorded section waits long: the test presses
// Ctrl-C (SIGINT to the process group) during the pause. Prints JSON lines on stdout.
import { startDemo } from '../../../src/index.js';

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
await startDemo('long', { outputDir: process.argv[2]! }, (demo) =>
  demo.vm('tiny', { resources: { memoryMiB: 512 } }, async (vm) => {
    await vm.record('sec', async () => {
      say({ vm: vm.name, recording: true });
      await vm.pause(60_000);
      say({ paused: true });
    });
    say({ recorded: true });
  }),
);
say({ joined: true });
