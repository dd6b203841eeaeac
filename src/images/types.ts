/** How to boot an image whose kernel lives outside the disk (direct kernel boot). */
export interface BootSpec {
  /** Absolute path of the kernel. */
  kernel: string;
  /** Absolute path of the initrd. */
  initrd: string;
  /** Kernel command line. Must route a console to ttyS0 so the serial log is useful. */
  cmdline: string;
}

/** A validated base image in the cache, ready to put an overlay on. Never written to. */
export interface BaseImage {
  /** The name users write: 'tiny', 'debian-12-desktop', 'fedora-42'. */
  name: string;
  /** Absolute path of the base disk: a qcow2 in the cache, or an existing domain's own disk (see `format`). */
  path: string;
  /** The base disk's format when it is not qcow2: an existing domain's raw disk. */
  format?: 'qcow2' | 'raw';
  /**
   * An ISO image (src/images/iso.ts): the ISO file, booted as a read-only CD-ROM; `path` is this file too. There is no
   * base disk to put an overlay on: the VM gets a blank disk of its own when asked (VmOptions.blankDisk), else none.
   */
  cdrom?: string;
  /** Present for built-in images that boot their kernel directly. */
  boot?: BootSpec;
  /** A regex source that the guest prints on its serial console once it is ready for input. */
  readyMarker?: string;
  /** The guest runs qemu-guest-agent (vm.exec works). */
  guestAgent: boolean;
  /** The account the desktop runs as. */
  user?: { name: string; password: string };
  /** Smallest memory the guest needs, MiB (the resource planner never goes below). */
  minMemoryMiB?: number;
  /**
   * Memory the guest is given when the user sets none, MiB. Built-in images know what they need;
   * without it a VM gets half the host. Less memory is also a smaller, faster saved boot.
   */
  memoryMiB?: number;
  /** The hardware profile the guest needs ('legacy-windows' for an old Windows), so users name only the image. Default: 'modern-linux'. */
  hardware?: string;
}
