// Which OS packages scripts/setup.mjs installs, decided from what the host already has.
// Node built-ins only (it runs before node_modules exists).
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';

/**
 * Is the ELF file at `path` statically linked (no PT_INTERP program header)? undefined when it
 * is missing or not an ELF file.
 */
export function isStaticElf(path) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(0x20) : head.readBigUInt64BE(0x20)) : u32(head, 0x1c);
    const phentsize = u16(head, is64 ? 0x36 : 0x2a);
    const phnum = u16(head, is64 ? 0x38 : 0x2c);
    if (phentsize < 4 || phnum > 4096) return undefined;
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

/** 'missing' | 'static' | 'dynamic': the busybox the tiny image copies into its initramfs. */
export function busyboxState(path = '/bin/busybox') {
  const s = isStaticElf(path);
  return s === undefined ? 'missing' : s ? 'static' : 'dynamic';
}

/** The kernels in /boot (the tiny image boots the newest). */
export function bootKernels(dir = '/boot') {
  try {
    return readdirSync(dir).filter((n) => /^vmlinuz-\d/.test(n));
  } catch {
    return [];
  }
}

/** /etc/os-release's ID ('ubuntu', 'debian', 'fedora'...) and ID_LIKE, as { id, like: [] }. */
export function osIds(osRelease) {
  const field = (key) =>
    osRelease
      .match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1]
      .replace(/["']/g, '')
      .trim() ?? '';
  return { id: field('ID'), like: field('ID_LIKE').split(/\s+/).filter(Boolean) };
}

/**
 * The packages for the tiny image's kernel and busybox, beyond the fixed list:
 *  - no kernel package on apt systems: when /boot has no kernel, the tiny image fetches the
 *    distribution's kernel package with `apt-get download` and unpacks it into its cache, so
 *    nothing is installed on the host; Fedora: kernel-core;
 *  - busybox-static only when /bin/busybox is missing or dynamic. When it is dynamic, the
 *    `busybox` package is installed, and busybox-static replaces it: that is reported as such.
 */
export function tinyPackages({ family, kernels, busybox, arch = process.arch }) {
  const install = [];
  const notes = [];
  let replaces;
  if (kernels.length === 0) {
    if (family === 'apt') {
      if (arch === 'x64') notes.push("no kernel in /boot: the tiny image unpacks the distribution's kernel package into its cache (not installed on the host)");
      else notes.push("no kernel in /boot: install your distribution's kernel package for the tiny image");
    } else install.push('kernel-core');
  }
  if (busybox === 'missing') install.push(family === 'apt' ? 'busybox-static' : 'busybox');
  else if (busybox === 'dynamic') {
    if (family === 'apt') {
      install.push('busybox-static');
      replaces = {
        package: 'busybox-static',
        removes: 'busybox',
        why: 'the tiny image needs a statically linked /bin/busybox; the installed busybox is dynamically linked',
      };
    } else notes.push('/bin/busybox is dynamically linked: the tiny image needs a static busybox there');
  }
  return { install, replaces, notes };
}

/**
 * The browser for the test that runs a real Page beside the VM matchers
 * (tests/e2e/fixtures-browser.spec.ts launches /usr/bin/chromium): Debian's `chromium`
 * package. Ubuntu's `chromium` is a transitional package for a snap, so it is left out there.
 */
export function browserPackages({ family, ids }) {
  if (family === 'apt' && ids.id === 'debian') return { install: ['chromium'], notes: [] };
  return { install: [], notes: ['no Debian chromium package here: the real-browser fixtures test skips without /usr/bin/chromium'] };
}

/**
 * tests/e2e/images-local.spec.ts makes a disk that boots by itself: syslinux on FAT (mkfs.vfat,
 * mcopy). tests/e2e/images-iso.spec.ts makes a bootable ISO with grub-mkrescue, which needs
 * xorriso, GRUB's BIOS modules (grub-pc-bin) and mtools. tests/e2e/images-domain.spec.ts reads
 * a source domain's disk's extended attributes (libvirt's remembered labels) with getfattr (attr).
 */
export function bootableDiskPackages({ family }) {
  if (family === 'apt') return { install: ['syslinux', 'mtools', 'dosfstools', 'xorriso', 'grub-pc-bin', 'grub-common', 'attr'], notes: [] };
  if (family === 'dnf') return { install: ['syslinux', 'mtools', 'dosfstools', 'xorriso', 'grub2-tools-extra', 'grub2-pc-modules', 'attr'], notes: [] };
  return { install: [], notes: [] };
}

/**
 * systemd-analyze, which tests/unit/deploy-systemd.spec.ts runs on the shipped unit
 * (deploy/systemd/demotool-exhibit@.service). Debian's and Ubuntu's `systemd` package holds it
 * and installs even where systemd is not PID 1 (containers, CI runners).
 */

export function unitCheckPackages({ family }) {
  if (family === 'apt') return { install: ['systemd'], notes: [] };
  return { install: [], notes: ['install systemd-analyze yourself: the systemd unit check (tests/unit/deploy-systemd.spec.ts) needs it'] };
}
