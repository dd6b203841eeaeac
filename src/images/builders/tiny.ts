import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ImageBuildError } from '../errors.js';
import { guestFile } from '../guest-files.js';
import { guestKernel } from './guest-kernel.js';
import { qemuImgCreate } from '../../qemu-img.js';
import { cpioNewc, type CpioEntry } from './cpio.js';
import { TINY_FIRST_BOOT_RCS, tinyFileEntries, tinyPackageEntries } from '../recipe-tiny.js';
import type { Builder, BuildContext } from './types.js';

const TINY_READY_MARKER = 'DEMOTOOL-READY';
// quiet + loglevel=3 keep boot fast and silent; rcS lowers it further so nothing scribbles
// over the tty1 shell. consoleblank=0: the VGA console must stay visible over VNC.
const TINY_CMDLINE = 'console=tty0 console=ttyS0,115200 quiet loglevel=3 consoleblank=0';
const DISK_BYTES = 64 * 1024 * 1024;
const BUSYBOX = '/bin/busybox';

export { newestKernel } from './guest-kernel.js';

// /init runs first: mount the basics, then hand over to busybox init, which respawns a shell
// on tty1 (the VGA console seen over VNC) and on ttyS0, each with its own controlling tty.
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
# Drivers, in dependency order (the list is in /lib/modules/order): the virtio disk (/dev/vda),
# the virtio keyboard, the virtio network card, IDE and SATA disks (/dev/sda) and the e1000 and
# RTL8139 cards of the legacy-windows hardware profile, and pvpanic, so a kernel panic reaches the host at once (libvirt reports the domain as panicked).
if [ -f /lib/modules/order ]; then
  for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m" 2>/dev/null; done
fi
exec /sbin/init
`;

const RCS = `#!/bin/sh
hostname tiny
# Only emergencies reach the consoles from now on.
dmesg -n 1
echo 0 > /proc/sys/kernel/printk_ratelimit 2>/dev/null
ip link set lo up
# The network card, when it has a driver: an address by DHCP (the closed network's passt answers
# it), in the background so the console is ready without waiting. The guest API over HTTP needs it.
if [ -e /sys/class/net/eth0 ]; then
  setsid udhcpc -i eth0 -q -n -t 10 -T 1 -s /etc/udhcpc.script </dev/null >/dev/null 2>&1 &
fi
# The watchdog's guest monitors, when the kernel command line asks (demotool.watchdog=serial).
if grep -q 'demotool.watchdog=' /proc/cmdline; then
  setsid /usr/local/bin/demotool-guest start </dev/null >/dev/null 2>&1 &
fi
`;

// busybox udhcpc calls this: 'deconfig' before asking (the link goes up), 'bound' or 'renew' with the lease in its environment.
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    ip link set "$interface" up
    ip addr flush dev "$interface"
    ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/\${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    ;;
esac
`;

const INITTAB = `::sysinit:/etc/init.d/rcS
tty1::respawn:-/bin/sh
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
`;

const PROFILE = `export HOME=/root PATH=/usr/local/bin:/sbin:/usr/sbin:/bin:/usr/bin ENV=/etc/shrc
export TERM=\${TERM:-linux}
cd "$HOME"
`;

// ENV is read by every interactive shell. The first tty1 shell to start tells the host,
// over the serial port, that the console is ready for typing.
const SHRC = `PS1='tiny# '
export HOME=/root PATH=/usr/local/bin:/sbin:/usr/sbin:/bin:/usr/bin
if [ "$(tty)" = /dev/tty1 ] && [ ! -e /tmp/.demotool-ready ]; then
  : > /tmp/.demotool-ready
  clear  # wipe firmware/boot text so screenshots start clean
  echo ${TINY_READY_MARKER} > /dev/ttyS0
fi
`;

function initramfsEntries(busybox: Buffer, modules: CpioEntry[], rcs = RCS): CpioEntry[] {
  const dirs = [
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'usr/local',
    'usr/local/bin',
    'lib',
    'lib/modules',
    'etc',
    'etc/init.d',
    'proc',
    'sys',
    'dev',
    'tmp',
    'root',
    'var',
    'run',
  ];
  // Directories first: the kernel creates entries in archive order.
  return [
    ...dirs.map((d): CpioEntry => ({ path: d, type: 'dir', mode: d === 'tmp' ? 0o1777 : 0o755 })),
    ...modules,
    { path: 'usr/local/bin/demotool-guest', type: 'file', data: guestFile('demotool-guest'), mode: 0o755 },
    { path: 'dev/console', type: 'char', major: 5, minor: 1 },
    { path: 'bin/busybox', type: 'file', data: busybox, mode: 0o755 },
    { path: 'bin/sh', type: 'symlink', target: 'busybox' },
    { path: 'sbin/init', type: 'symlink', target: '../bin/busybox' },
    { path: 'init', type: 'file', data: INIT, mode: 0o755 },
    { path: 'etc/init.d/rcS', type: 'file', data: rcs, mode: 0o755 },
    { path: 'etc/udhcpc.script', type: 'file', data: UDHCPC_SCRIPT, mode: 0o755 },
    { path: 'etc/inittab', type: 'file', data: INITTAB },
    { path: 'etc/profile', type: 'file', data: PROFILE },
    { path: 'etc/shrc', type: 'file', data: SHRC },
    { path: 'etc/hostname', type: 'file', data: 'tiny\n' },
    { path: 'etc/passwd', type: 'file', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { path: 'etc/group', type: 'file', data: 'root:x:0:\n' },
  ];
}

async function readHostFile(ctx: BuildContext, step: string, file: string, aptPackage: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageBuildError({
      image: ctx.name,
      step,
      reason: `cannot read ${file} (${code})`,
      hint: code === 'EACCES' ? `make ${file} readable (sudo chmod a+r ${file})` : `apt-get install ${aptPackage} (or run \`npx demotool setup --yes\`)`,
      cause: e,
    });
  }
}

/**
 * Host modules tiny loads at boot, in order: a virtio disk, the virtio keyboard, the virtio network
 * card, IDE/SATA disks and the e1000/RTL8139 cards (so tiny proves the legacy-windows profile's
 * devices), then pvpanic. Each group is optional.
 */
const MODULE_GROUPS: { what: string; files: string[] }[] = [
  {
    what: 'the virtio disk (/dev/vda)',
    files: [
      'drivers/virtio/virtio_ring.ko',
      'drivers/virtio/virtio.ko',
      'drivers/virtio/virtio_pci_legacy_dev.ko',
      'drivers/virtio/virtio_pci_modern_dev.ko',
      'drivers/virtio/virtio_pci.ko',
      'drivers/block/virtio_blk.ko',
    ],
  },
  // QEMU sends VNC keys to the virtio keyboard once this binds, instead of the PS/2 queue that drops keys past ~30 a second.
  { what: 'the virtio keyboard (fast lossless typing)', files: ['drivers/virtio/virtio_input.ko'] },
  // After the virtio core above. Without it there is no eth0, and no guest API over HTTP (serial still works).
  {
    what: 'the virtio network card (the guest API over HTTP)',
    files: ['net/core/failover.ko', 'drivers/net/net_failover.ko', 'drivers/net/virtio_net.ko'],
  },
  // sd_mod's checksum helpers first (t10-pi and its CRCs), then the SCSI core, libata and the two controllers.
  {
    what: 'IDE and SATA disks (/dev/sda, the legacy-windows hardware profile)',
    files: [
      'crypto/crct10dif_common.ko',
      'lib/crc-t10dif.ko',
      'lib/crc64.ko',
      'lib/crc64-rocksoft.ko',
      'block/t10-pi.ko',
      'drivers/scsi/scsi_common.ko',
      'drivers/scsi/scsi_mod.ko',
      'drivers/scsi/sd_mod.ko',
      'drivers/ata/libata.ko',
      'drivers/ata/ata_piix.ko',
      'drivers/ata/libahci.ko',
      'drivers/ata/ahci.ko',
    ],
  },
  // QEMU's rtl8139 is a C+ chip (revision 0x20): 8139cp drives it, 8139too refuses it.
  {
    what: 'the e1000 and RTL8139 network cards (the legacy-windows hardware profile)',
    files: ['drivers/net/ethernet/intel/e1000/e1000.ko', 'drivers/net/mii.ko', 'drivers/net/ethernet/realtek/8139cp.ko'],
  },
  { what: 'pvpanic (panics reported at once)', files: ['drivers/misc/pvpanic/pvpanic.ko', 'drivers/misc/pvpanic/pvpanic-mmio.ko'] },
];

/** The kernel's own modules for MODULE_GROUPS, with /lib/modules/order; a group missing on this host is left out. */
async function kernelModules(modulesDir: string, ctx: BuildContext): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const order: string[] = [];
  for (const group of MODULE_GROUPS) {
    const files = await Promise.all(group.files.map((f) => fs.readFile(path.join(modulesDir, 'kernel', f)).catch(() => undefined)));
    if (files.some((f) => !f)) {
      ctx.log.warn(`tiny: modules for ${group.what} are missing for this kernel: left out`, { modulesDir });
      continue;
    }
    group.files.forEach((f, i) => {
      const name = path.basename(f);
      entries.push({ path: `lib/modules/${name}`, type: 'file', data: files[i]!, mode: 0o644 });
      order.push(name);
    });
  }
  if (order.length) entries.push({ path: 'lib/modules/order', type: 'file', data: `${order.join('\n')}\n`, mode: 0o644 });
  return entries;
}

/**
 * A recipe's packages go first, minus any path tiny has (its init, shell and busybox stay); its
 * files go last, so they replace tiny's own.
 */
async function withRecipe(ctx: BuildContext, base: CpioEntry[]): Promise<CpioEntry[]> {
  if (!ctx.recipe) return base;
  const taken = new Set(base.filter((e) => e.type !== 'dir').map((e) => e.path));
  const packages = (await tinyPackageEntries(ctx, ctx.recipe)).filter((e) => !taken.has(e.path));
  return [...packages, ...base, ...tinyFileEntries(ctx.recipe)];
}

/** A Debian kernel + ~1 MB busybox initramfs + a small empty qcow2. Builds in well under a second. */
export const buildTiny: Builder = async (ctx) => {
  ctx.progress('kernel', 0);
  // The host's kernel, or one fetched into the cache (nothing installed on the host).
  const { kernel, modulesDir, source } = await guestKernel(ctx, { modules: MODULE_GROUPS.flatMap((g) => g.files) });
  await fs.writeFile(ctx.out.kernel, await readHostFile(ctx, 'kernel', kernel, 'linux-image-amd64'));
  ctx.log.info('tiny kernel', { kernel, source });

  ctx.progress('initramfs', 40);
  const busybox = await readHostFile(ctx, 'initramfs', BUSYBOX, 'busybox-static');
  const modules = await kernelModules(modulesDir, ctx);
  const initrd = await promisify(gzip)(
    cpioNewc(await withRecipe(ctx, initramfsEntries(busybox, modules, ctx.recipe?.firstBoot.length ? RCS + TINY_FIRST_BOOT_RCS : RCS))),
    {
      level: 9,
    },
  );
  await fs.writeFile(ctx.out.initrd, initrd);
  ctx.log.info('tiny initramfs', { bytes: initrd.length });

  ctx.progress('disk', 80);
  await qemuImgCreate(ctx.out.qcow2, DISK_BYTES);
  ctx.progress('done', 100);
  return { cmdline: TINY_CMDLINE, readyMarker: TINY_READY_MARKER, guestAgent: false, minMemoryMiB: 256, memoryMiB: 512 };
};
