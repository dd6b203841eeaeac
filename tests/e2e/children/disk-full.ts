// Tiny VMs whose run directory (their overlays) sits on a small tmpfs, while the image and the
// saved boots are on another filesystem (argv[3]: the image cache's dir, argv[4]: an empty
// saved-boots dir). The first VM boots cold and is saved: its overlay is copied across to
// become the frozen disk. The second is restored from it, fills its disk, QEMU pauses it on
// ENOSPC, and the wait then running must fail at once (not at its timeout) and say why.
import { ImageCache, startDemo } from '../../../src/index.js';

const [outputDir, dir, savedBootsDir] = process.argv.slice(2) as [string, string, string];
const options = { resources: { memoryMiB: 512 }, start: 'warm' } as const;
await startDemo('disk-full', { outputDir, imageCache: new ImageCache({ dir, savedBootsDir }) }, async (demo) => {
  const first = await demo.vm('tiny', options, async (vm) => vm.started);
  await demo.vm('tiny', options, async (vm) => {
    // 48 MiB of non-zero data onto the 64 MiB disk: the overlay outgrows the tmpfs.
    await vm.keyboard.type('dd if=/dev/urandom of=/dev/vda bs=1M count=60; sync; echo DD-DONE > /dev/ttyS0\n', { delay: 0 });
    const started = Date.now();
    const error = await vm.waitForSerial('DD-DONE', { timeout: 120_000 }).then(
      () => undefined,
      (e) => e,
    );
    const result = { started: [first, vm.started], code: error?.code, message: error?.message ?? null, waitedMs: Date.now() - started };
    process.stdout.write(JSON.stringify(result) + '\n');
  });
});
