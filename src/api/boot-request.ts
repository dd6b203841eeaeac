/** What a boot is asked for: the VM's image, shape, network and where its files go. */
import type { BaseImage } from '../images/index.js';
import { DEFAULT_GUEST_NETWORK, type Accel, type Hardware, type Resources } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import type { ServiceMap } from '../network/index.js';
import type { ReadyOptions } from './readiness.js';
import type { StartKind } from './warm-start.js';

export interface BootRequest {
  name: string;
  /** The domain's UUID: every call after define addresses it, never the name alone. */
  uuid: string;
  image: BaseImage;
  accel: Accel;
  resources?: Partial<Resources>;
  network?: 'closed' | 'open';
  /** Where the guest finds the host's guest API on a closed network. */
  guestApi?: GuestApiAddress;
  /** Appended to the image's kernel command line (direct kernel boot only). */
  kernelArgs?: string[];
  video?: 'vga' | 'virtio';
  /** The guest's devices (resolveHardware()); default: modern-linux. */
  hardware?: Hardware;
  /** An ISO image's blank disk, in bytes (VmOptions.blankDisk): made in the run files, removed with the VM. Without it the VM has only the CD. */
  blankDiskBytes?: number;
  ready?: ReadyOptions;
  timeoutMs: number;
  /** Who chose timeoutMs, so a timeout's hint names what to raise: the bootTimeout option, DEMOTOOL_BOOT_TIMEOUT or neither. */
  timeoutSetBy?: 'option' | 'env' | 'default';
  /** Where a failed boot leaves its last screenshot and serial log. */
  artifactsDir: () => string;
  log: Logger;
  slot?: number;
  /** 'warm' (default): restore the shape's saved boot when there is one, and save a cold boot for next time. 'cold': always boot. */
  start?: StartKind;
  /** Where saved boots live: the image cache's (ImageCache.savedBootsDir). Without it, every start is cold. */
  savedBoots?: string;
  /** An exhibit's VM: its files in `directory` for good, its domain marked as the exhibit's (never swept), its network outliving this process. */
  exhibit?: ExhibitBoot;
  /** Network services the guest reaches on the closed network (hostnames → archive, mirror, mock, record). */
  services?: ServiceMap;
  /** Put demotool's local CA into the guest's trust store once it is ready (guest agent). */
  installLocalCa?: boolean;
}

export interface ExhibitBoot {
  /** The exhibit config's absolute path, recorded in the domain's metadata. */
  config: string;
  /** Where the overlay (with its snapshots) and the serial log are kept. */
  directory: string;
}

/** The address and port the guest's scripts call (the exhibition controller's default: 192.168.122.1:8000). */
export interface GuestApiAddress {
  address: string;
  port: number;
}

export const DEFAULT_GUEST_API: GuestApiAddress = { address: DEFAULT_GUEST_NETWORK.gateway, port: 8000 };
