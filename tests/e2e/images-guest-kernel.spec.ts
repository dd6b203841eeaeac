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

test('a kernel package unpacked into the cache boots tiny, with its own disk and pvpanic modules; another cache copies the unpack', async ({}, info) => {
  test.setTimeout(8 * 60_000);
  // A short path: VM sockets live under the cache.
  const cacheHome = mkdtempSync('/tmp/dk-');
  const hostKernels = async () => [readdirSync('/boot').sort().join(' '), (await execa('dpkg-query', ['-W', 'linux-image-*'], { reject: false })).stdout];
  const before = await hostKernels();
  const saved = { kernel: process.env.DEMOTOOL_GUEST_KERNEL, xdg: process.env.XDG_CACHE_HOME };
  process.env.DEMOTOOL_GUEST_KERNEL = 'download';
  const context = (dir: string) => ({ name: 'tiny', dir, out: { qcow2: '', kernel: '', initrd: '' }, log: createLogger('test'), progress: () => undefined });
  // Modules the package lacks are left out.
  const unpack = { modules: ['drivers/block/virtio_blk.ko', 'drivers/misc/pvpanic/pvpanic.ko', 'no/such/module.ko'] };
  try {
    // The default cache, here an empty one: the package is downloaded and unpacked into it.
    process.env.XDG_CACHE_HOME = cacheHome;
    const defaultDir = join(cacheHome, 'demotool', 'images');
    const first = await guestKernel(context(defaultDir), unpack);
    expect(first.source).toBe('cache');
    expect(first.kernel.startsWith(join(defaultDir, 'kernels'))).toBe(true);
    expect(existsSync(join(first.modulesDir, 'kernel/drivers/block/virtio_blk.ko'))).toBe(true);
    // Nothing was installed on the host: /boot and dpkg's kernel packages are as they were.
    expect(await hostKernels()).toEqual(before);
    // The second time, from the cache.
    const t0 = Date.now();
    expect((await guestKernel(context(defaultDir), unpack)).kernel).toBe(first.kernel);
    expect(Date.now() - t0).toBeLessThan(2_000);

    // Another cache copies the default cache's unpack instead of downloading it. An unpack of the
    // layout before unpacks were named by their content is there: no image uses it, it goes.
    const other = join(cacheHome, 'images');
    const older = join(other, 'kernels', 'linux-image-6.1.0-1-amd64');
    mkdirSync(join(older, 'boot'), { recursive: true });
    const t1 = Date.now();
    const copied = await guestKernel(context(other), unpack);
    expect(Date.now() - t1).toBeLessThan(2_000);
    expect(copied.kernel).toBe(first.kernel.replace(defaultDir, other));
    expect(existsSync(join(copied.modulesDir, 'kernel/drivers/misc/pvpanic/pvpanic.ko'))).toBe(true);
    expect(existsSync(older)).toBe(false);
    if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved.xdg;

    // tiny, built from the copy, boots with the package's disk and pvpanic modules.
    const cache = new ImageCache({ dir: other });
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
    for (const [name, value] of [
      ['DEMOTOOL_GUEST_KERNEL', saved.kernel],
      ['XDG_CACHE_HOME', saved.xdg],
    ] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    rmSync(cacheHome, { recursive: true, force: true });
  }
});
