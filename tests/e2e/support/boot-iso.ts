// A separate process that boots an ISO (argv: demo name, ISO file, cache dir) with a blank disk and then waits forever; the test interrupts it mid-boot.
import { startDemo } from '../../../src/index.js';
import { ImageCache } from '../../../src/images/index.js';

const [name = 'iso-run', iso, dir] = process.argv.slice(2);
await startDemo(name, { outputDir: process.env.OUT_DIR, imageCache: new ImageCache({ dir }) }, async (demo) => {
  await demo.vm(`file:${iso}`, { accel: 'tcg', resources: { memoryMiB: 512 }, blankDisk: '64M' }, async () => {
    console.log('READY');
    await new Promise(() => undefined);
  });
});
