import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { startDemo } from '../../src/index.js';
import { ImageCache } from '../../src/images/index.js';

// The real image in the DEFAULT cache (the one demos use): built here if missing (~2 min, up to
// 15 on a busy machine), then booted to its desktop through the library.
test.describe.configure({ mode: 'serial' });

const NAME = 'debian-12-desktop';
const BACKGROUND = [0x3b, 0x6e, 0xa5];

test('the desktop image in the default cache is valid and describes how to boot it', async () => {
  test.setTimeout(15 * 60_000);
  const cache = new ImageCache();
  const image = await cache.ensure(NAME);
  expect(await cache.validate(NAME)).toEqual({ ok: true });
  // The current build: {name}.qcow2 from before versioned builds, or {name}_{build id}.qcow2.
  const build = path.basename(image.path, '.qcow2');
  expect(path.dirname(image.path)).toBe(cache.dir);
  expect(build).toMatch(new RegExp(`^${NAME}(_\\d{8}-\\d{6}-[0-9a-f]{4})?$`));
  expect(image).toMatchObject({
    name: NAME,
    readyMarker: 'DEMOTOOL-DESKTOP-READY',
    guestAgent: true,
    user: { name: 'demo', password: 'demokudasaidomo' },
    minMemoryMiB: 1024,
  });

  const sidecar = JSON.parse(await fs.readFile(path.join(cache.dir, `${NAME}.json`), 'utf8'));
  expect(sidecar).toMatchObject({
    format: 1,
    builder: NAME,
    boot: { kernel: `${build}.vmlinuz`, initrd: `${build}.initrd` },
    readyMarker: 'DEMOTOOL-DESKTOP-READY',
    guestAgent: true,
    user: { name: 'demo', password: 'demokudasaidomo' },
  });
  expect(sidecar.boot.cmdline).toMatch(/(^| )root=\/dev\/vda( |$)/);
  expect(sidecar.boot.cmdline).toContain('console=ttyS0');

  const info = JSON.parse((await execa('qemu-img', ['info', '-U', '--output=json', image.path])).stdout);
  expect(info.format).toBe('qcow2');
  expect(info['backing-filename']).toBeUndefined();
  // Linux boot protocol header: "HdrS" at 0x202 of a bzImage.
  const kernel = await fs.readFile(image.boot!.kernel);
  expect(kernel.subarray(0x202, 0x206).toString('latin1')).toBe('HdrS');
  // The root disk is virtio-blk with ext4: the initramfs must be able to mount it.
  const initrd = (await execa('lsinitramfs', [image.boot!.initrd])).stdout;
  for (const mod of ['virtio_pci.ko', 'virtio_blk.ko', 'ext4.ko']) expect(initrd).toContain(mod);
});

test('it boots to its desktop through startDemo: marker, 1280x800 background, xterm, demo user', async ({}, testInfo) => {
  test.setTimeout(10 * 60_000);
  const demo = await startDemo('images-desktop', { outputDir: testInfo.outputPath('videos'), artifactsDir: testInfo.outputPath('artifacts') });
  try {
    const vm = await demo.vm(NAME, { resources: { cpus: 2 }, start: 'cold' });
    await testInfo.attach('timings', { body: JSON.stringify(vm.timings, null, 2), contentType: 'application/json' });
    expect(vm.serial.text()).toContain('DEMOTOOL-DESKTOP-READY');

    const png = await vm.screenshot({ path: testInfo.outputPath('desktop.png') });
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1280, 800]);
    let background = 0;
    for (let i = 0; i < data.length; i += 3) {
      if (BACKGROUND.every((c, k) => Math.abs((data[i + k] ?? 0) - c) <= 4)) background++;
    }
    // The xterm covers ~17% of the screen; everything else is the root window's colour.
    expect(background / (info.width * info.height)).toBeGreaterThan(0.7);

    expect(await vm.exec('id -un')).toEqual({ stdout: 'demo\n', stderr: '', exitCode: 0 });
    const groups = (await vm.exec('id -Gn')).stdout.trim().split(' ');
    expect(groups).toEqual(expect.arrayContaining(['sudo', 'wheel', 'dialout', 'video', 'input']));
    // The xterm's frame sits at 100,100 and openbox manages it (it has a frame). xwininfo, not
    // xdotool getwindowgeometry, which counts the frame offset twice for reparented windows.
    const geo = await vm.exec('w=$(xdotool search --onlyvisible --class xterm | head -1); xwininfo -id $w; xprop -id $w _NET_FRAME_EXTENTS');
    expect(geo.exitCode, geo.stderr).toBe(0);
    const num = (k: string) => Number(geo.stdout.match(new RegExp(`Absolute upper-left ${k}: +(\\d+)`))?.[1]);
    const extents = geo.stdout.match(/_NET_FRAME_EXTENTS\(CARDINAL\) = (\d+), (\d+), (\d+), (\d+)/);
    expect(extents, geo.stdout).not.toBeNull();
    const [left = NaN, , top = NaN] = extents!.slice(1).map(Number);
    expect([num('X') - left, num('Y') - top], geo.stdout).toEqual([100, 100]);

    const root = await vm.exec(
      'hostname; systemctl is-active qemu-guest-agent systemd-networkd; ' +
        'systemctl is-enabled apt-daily.timer apt-daily-upgrade.timer systemd-timesyncd.service fstrim.timer 2>&1; ' +
        // DHCP from passt on the closed network (networkd is off the boot's critical path, so allow it time).
        'for i in $(seq 60); do ip -4 -o addr show | grep -q "inet 192.168.122" && break; sleep 1; done; ' +
        'ip -4 -o addr show | grep -o "en[^ ]* *inet [0-9.]*"',
      { user: 'root', timeout: 120_000 },
    );
    expect(root.stdout).toMatch(/^demo-desktop\nactive\nactive\nmasked\nmasked\nmasked\nmasked\nen\S+ +inet 192\.168\.122\.15\n$/);
    // demo can sudo with its password (wheel and sudo groups).
    const sudo = await vm.exec('echo demokudasaidomo | sudo -S -k id -un');
    expect(sudo.stdout).toBe('root\n');
  } finally {
    await demo.close();
  }
});
