// A tiny VM whose run directory (its overlay) sits on a small tmpfs: the guest fills its disk,
// QEMU pauses it on ENOSPC, and a wait that then times out must say why.
import { startDemo } from '../../../src/index.js';

await startDemo('disk-full', { outputDir: process.argv[2]! }, (demo) =>
  demo.vm('tiny', { resources: { memoryMiB: 512 } }, async (vm) => {
    // 48 MiB of non-zero data onto the 64 MiB disk: the overlay outgrows the tmpfs.
    await vm.keyboard.type('dd if=/dev/urandom of=/dev/vda bs=1M count=60; sync; echo DD-DONE > /dev/ttyS0\n', { delay: 0 });
    const error = await vm.waitForSerial('DD-DONE', { timeout: 20_000 }).then(
      () => undefined,
      (e) => e,
    );
    process.stdout.write(JSON.stringify({ code: error?.code, message: error?.message ?? null }) + '\n');
  }),
);
