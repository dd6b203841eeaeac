/**
 * A disk that boots by itself: tiny's kernel and initrd on a FAT file system with syslinux
 * (tiny's own disk is blank; it boots by direct kernel boot). Needs syslinux, mtools and
 * dosfstools (`npx demotool setup --yes` installs them). Written into `dir`.
 */
import { execa } from 'execa';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ImageCache } from '../../../src/images/index.js';

export async function bootableDisk(dir: string, format: 'qcow2' | 'raw'): Promise<string> {
  const tiny = await new ImageCache().ensure('tiny');
  const raw = path.join(dir, `bootable-${format}.raw`);
  await fs.writeFile(raw, '');
  await fs.truncate(raw, 64 * 2 ** 20);
  await execa('mkfs.vfat', ['-n', 'TINY', raw]);
  await execa('syslinux', ['--install', raw]);
  const cfg = path.join(dir, 'syslinux.cfg');
  await fs.writeFile(cfg, `DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd ${tiny.boot!.cmdline}\n`);
  for (const [from, to] of [
    [tiny.boot!.kernel, 'vmlinuz'],
    [tiny.boot!.initrd, 'initrd'],
    [cfg, 'syslinux.cfg'],
  ] as const)
    await execa('mcopy', ['-i', raw, from, `::${to}`]);
  if (format === 'raw') return raw;
  const qcow2 = path.join(dir, 'bootable.qcow2');
  await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return qcow2;
}
