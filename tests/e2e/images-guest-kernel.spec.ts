/**
 * Without a kernel in /boot, tiny gets one without installing anything on the host: the
 * distribution's kernel package, fetched with `apt-get download` and unpacked into the cache.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { test, expect } from '@playwright/test';
import { startDemo, ImageCache } from '../../src/index.js';
import { guestKernel } from '../../src/images/builders/guest-kernel.js';
import { createLogger } from '../../src/log.js';

test('a kernel package unpacked into the cache boots tiny, with its own disk and pvpanic modules', async ({}, info) => {
  test.setTimeout(8 * 60_000);
  // A short path: VM sockets live under the cache.
  const cacheHome = mkdtempSync('/tmp/dk-');
  const hostKernels = async () => [readdirSync('/boot').sort().join(' '), (await execa('dpkg-query', ['-W', 'linux-image-*'], { reject: false })).stdout];
  const before = await hostKernels();
  const previous = process.env.DEMOTOOL_GUEST_KERNEL;
  process.env.DEMOTOOL_GUEST_KERNEL = 'download';
  try {
    const ctx = {
      name: 'tiny',
      dir: join(cacheHome, 'images'),
      out: { qcow2: '', kernel: '', initrd: '' },
      log: createLogger('test'),
      progress: () => undefined,
    };
    // An unpack of the layout before unpacks were named by their content: no image uses it, it goes.
    const older = join(cacheHome, 'images', 'kernels', 'linux-image-6.1.0-1-amd64');
    mkdirSync(join(older, 'boot'), { recursive: true });
    // Modules the package lacks are left out.
    const unpack = { modules: ['drivers/block/virtio_blk.ko', 'drivers/misc/pvpanic/pvpanic.ko', 'no/such/module.ko'] };
    const first = await guestKernel(ctx, unpack);
    expect(first.source).toBe('cache');
    expect(first.kernel.startsWith(join(cacheHome, 'images', 'kernels'))).toBe(true);
    expect(existsSync(join(first.modulesDir, 'kernel/drivers/block/virtio_blk.ko'))).toBe(true);
    expect(existsSync(older)).toBe(false);
    // Nothing was installed on the host: /boot and dpkg's kernel packages are as they were.
    expect(await hostKernels()).toEqual(before);
    // The second time, from the cache.
    const t0 = Date.now();
    expect((await guestKernel(ctx, unpack)).kernel).toBe(first.kernel);
    expect(Date.now() - t0).toBeLessThan(2_000);

    const cache = new ImageCache({ dir: join(cacheHome, 'images') });
    await startDemo('guest-kernel', { outputDir: info.outputPath('v'), imageCache: cache }, (demo) =>
      demo.vm('tiny', { resources: { memoryMiB: 512 }, accel: 'tcg', start: 'warm' }, async (vm) => {
        const from = vm.serial.mark();
        await vm.keyboard.type('ls /dev/vda && lsmod | grep -c pvpanic > /dev/ttyS0; echo DISK-$(ls /dev/vda) > /dev/ttyS0\n', { delay: 0 });
        await vm.waitForSerial('DISK-/dev/vda', { from, timeout: 30_000 });
        expect(vm.image.boot?.kernel).toBeDefined();
      }),
    );
    // Its saved boot (for the next warm start) went with the cache, not into the user's.
    expect((await cache.savedBoots()).map((b) => [b.image, b.dir.startsWith(cacheHome)])).toEqual([['tiny', true]]);
  } finally {
    if (previous === undefined) delete process.env.DEMOTOOL_GUEST_KERNEL;
    else process.env.DEMOTOOL_GUEST_KERNEL = previous;
    rmSync(cacheHome, { recursive: true, force: true });
  }
});
