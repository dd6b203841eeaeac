import { isIPv4 } from 'node:net';
import { UsageError } from '../errors.js';
import { parseOptions, z } from '../option-schema.js';
import { resolveTimeout } from '../timeouts.js';
import type { Resources, Accel, Hardware, HardwareChoice } from '../libvirt/index.js';
import { CLOCKS, DISKS, HARDWARE_PROFILES, NICS, VIDEOS, guestNetworkAvailable, resolveHardware } from '../libvirt/index.js';
import { guestMonitorArgs, type GuestMonitors } from './guest-monitors.js';
import { parseDiskSize } from './disk-size.js';
import type { ReadyOptions } from './readiness.js';
import type { BaseImage } from '../images/index.js';
import { parseServiceMap, type ServiceMap } from '../network/index.js';

export type { HardwareChoice };

/** How `demo.vm(image, options)` boots a VM. Every option is checked before anything happens. */
export interface VmOptions {
  /** CPUs and memory; default: 50% of the host's CPUs (1–8), and the memory the image asks for (tiny 512 MiB, debian-12-desktop 2 GiB), else 50% of the host's (4–32 GiB). */
  resources?: Partial<Resources>;
  /** Whole boot sequence, ms. Default `Timeouts.boot` (DEMOTOOL_BOOT_TIMEOUT seconds when set). */
  bootTimeout?: number;
  /** How readiness is decided (default: serial marker + screen settle). */
  ready?: ReadyOptions;
  /**
   * 'closed' (default): the guest reaches nothing but the watchdog's guest API at
   * `guestApi` (192.168.122.1:8000), in network namespaces of its own; 'open': QEMU's plain usermode network.
   */
  network?: 'closed' | 'open';
  /** Where guest scripts find the watchdog on a closed network. Default { address: '192.168.122.1', port: 8000 }. */
  guestApi?: { address: string; port: number };
  /** Start demotool's guest monitors at boot (built-in images): heartbeats, process watch, idle monitor. Off by default. */
  guestMonitors?: GuestMonitors;
  /** The display adapter: 'virtio' (default; the pointer reaches VNC as a shape, not in the pixels) or 'vga'. */
  video?: 'vga' | 'virtio';
  /**
   * The guest's devices (README, "Hardware profiles"): 'modern-linux' (virtio everywhere),
   * 'legacy-windows' (IDE disk, e1000, standard VGA, PS/2, USB 1.1 tablet, local-time clock, no
   * virtio) or 'uefi' (modern-linux on OVMF); or a profile with single devices replaced, e.g.
   * `{ profile: 'legacy-windows', disk: 'sata', nic: 'rtl8139', video: 'cirrus', clock: 'utc' }`.
   * Default: the profile the image's sidecar names, else 'modern-linux'.
   */
  hardware?: HardwareChoice;
  /**
   * ISO images only: a fresh, empty disk of this size for the VM ('2G', '512M', or bytes; K, M, G, T are powers of 1024),
   * made beside the VM's other files and removed with it. Without it the VM has only its CD. Default: none.
   */
  blankDisk?: string | number;
  /** Force KVM or TCG (default: DEMOTOOL_ACCEL, else a real probe). */
  accel?: Accel;
  /**
   * 'warm' (default): restore a saved boot of the same image and shape when there is one (seconds
   * instead of a whole boot), and save the first cold boot of each shape for the next VMs.
   * 'cold': always boot from the image. `vm.started` says which one happened.
   * Default: DEMOTOOL_START when set, else 'warm'.
   */
  start?: 'warm' | 'cold';
  /**
   * Network services on the closed network (README, "Network services"): hostnames (exact, or
   * `*.example.org`) → `{ archive: 'site.warc.gz' }`, `{ mirror: 'dir' }`, `{ mock: routes | 'module.ts' }`
   * or `{ record: 'out.warc', upstream? }`. The guest's DNS answers these names with the gateway
   * (ports 80 and 443 only), and no other name.
   */
  services?: ServiceMap;
  /** Put demotool's local CA into the guest's trust store (and /etc/demotool/ca.pem), so its https names are trusted. Needs the guest agent. */
  installLocalCa?: boolean;
}

const whole = (min: number, max: number) => z.number().int().min(min).max(max);

const region = z.strictObject({ x: whole(0, 65_535), y: whole(0, 65_535), width: whole(1, 65_535), height: whole(1, 65_535) });

/** A hardware profile and single devices over it; a profile's name is short for { profile: name }. Also an exhibit config's `vm.hardware`. */
export const hardwareChoiceSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { profile: v } : v),
  z.strictObject({
    profile: z.enum(HARDWARE_PROFILES).optional(),
    disk: z.enum(DISKS).optional(),
    nic: z.enum(NICS).optional(),
    video: z.enum(VIDEOS).optional(),
    clock: z.enum(CLOCKS).optional(),
  }),
);

/**
 * The VM options' shapes and ranges; strict, so a typo is refused. Timeouts and guest monitors have checks of their own.
 * The fixtures check their VM options (vmResources, vmOptions) with it too, under their own names.
 */
export const vmOptionsSchema = z.strictObject({
  resources: z.strictObject({ cpus: whole(1, 64).optional(), memoryMiB: whole(128, 1024 * 1024).optional() }).optional(),
  bootTimeout: z.unknown().optional(),
  ready: z
    .strictObject({
      strategy: z.enum(['auto', 'serial', 'settle', 'fixed', 'needle']).optional(),
      settleMs: whole(0, 600_000).optional(),
      fixedMs: whole(0, 600_000).optional(),
      needle: z.union([z.string().min(1), z.instanceof(Buffer)]).optional(),
      needleMatch: z
        .strictObject({
          region: region.optional(),
          exclude: z.array(region).optional(),
          threshold: z.number().min(0).max(1).optional(),
          margin: whole(0, 10_000).optional(),
        })
        .optional(),
    })
    .refine((r) => r.strategy !== 'needle' || r.needle !== undefined, { message: "strategy 'needle' needs a needle (a PNG path or buffer)" })
    .refine((r) => r.needle === undefined || r.strategy === undefined || r.strategy === 'needle', { message: "a needle is only used by strategy 'needle'" })
    .optional(),
  network: z.enum(['closed', 'open']).optional(),
  guestApi: z.strictObject({ address: z.string().refine((a) => isIPv4(a), 'must be an IPv4 address'), port: whole(1, 65535) }).optional(),
  guestMonitors: z.unknown().optional(),
  video: z.enum(['virtio', 'vga']).optional(),
  hardware: hardwareChoiceSchema.optional(),
  accel: z.enum(['kvm', 'tcg']).optional(),
  blankDisk: z.union([z.string(), z.number()]).optional(),
  start: z.enum(['warm', 'cold']).optional(),
  services: z.unknown().optional(),
  installLocalCa: z.boolean().optional(),
});

/**
 * Every VM option checked before anything happens (no sweep, overlay or define): a typo or a
 * wrong type is a UsageError naming the option, never a silent default. The network fails
 * closed: only exactly 'open' opens it.
 * @returns the kernel arguments the guest monitors need, the boot timeout when one was given, and how to start.
 */
export function checkVmOptions(options: VmOptions): { kernelArgs: string[]; bootTimeout?: number; blankDiskBytes?: number; start: 'warm' | 'cold' } {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
    throw new UsageError(`VM options must be an object, not ${JSON.stringify(options)}`);
  parseOptions(vmOptionsSchema, options, 'VM');
  const hardware = hardwareChoice(options);
  // A named profile is checked now (OVMF present for 'uefi'); one from the image's sidecar once the image is there.
  if (typeof hardware === 'object' && hardware.profile) resolveHardware(hardware);
  const bootTimeout = options.bootTimeout === undefined ? undefined : resolveTimeout('bootTimeout', options.bootTimeout, 0);
  const network = options.network ?? 'closed';
  if (options.guestMonitors?.transport === 'http' && network === 'closed' && !guestNetworkAvailable())
    throw new UsageError(
      "guestMonitors over 'http' need the closed guest network, and passt or socat is missing",
      "install passt and socat (`npx demotool setup --yes`), or use transport: 'serial'",
    );
  checkServices(options, network);
  const blankDiskBytes = options.blankDisk === undefined ? undefined : parseDiskSize(options.blankDisk);
  const start = options.start ?? defaultStart();
  return { kernelArgs: guestMonitorArgs(options.guestMonitors, network, options.guestApi), bootTimeout, blankDiskBytes, start };
}

/** DEMOTOOL_START=warm|cold sets the default for every VM of the run (say, to time a suite both ways); anything else is refused. */
function defaultStart(): 'warm' | 'cold' {
  const raw = process.env.DEMOTOOL_START;
  if (raw === undefined || raw === '') return 'warm';
  if (raw === 'warm' || raw === 'cold') return raw;
  throw new UsageError(
    `DEMOTOOL_START must be 'warm' or 'cold', not ${JSON.stringify(raw)}`,
    'unset it, or set DEMOTOOL_START=cold to boot every VM from its image',
  );
}

/** Services live on the closed network only, and are checked (files included) before anything starts. */
function checkServices(options: VmOptions, network: 'closed' | 'open'): void {
  if (options.services === undefined) return;
  parseServiceMap(options.services, 'VM option services');
  if (network === 'open') throw new UsageError("VM option services need the closed network, not network: 'open'", "remove network: 'open'");
  if (!guestNetworkAvailable())
    throw new UsageError('VM option services need the closed guest network, and passt or socat is missing', 'npx demotool setup --yes');
  const port = options.guestApi?.port;
  if (port === 80 || port === 443)
    throw new UsageError(`guestApi port ${port} is the network services' port`, 'keep the guest API on another port (default 8000)');
}

/** The hardware option with the older `video` option folded in; both naming different adapters is a UsageError. */
function hardwareChoice(options: VmOptions): HardwareChoice | undefined {
  const choice = typeof options.hardware === 'string' ? { profile: options.hardware } : options.hardware;
  if (options.video === undefined) return choice;
  if (choice?.video !== undefined && choice.video !== options.video)
    throw new UsageError(
      `VM options video ${JSON.stringify(options.video)} and hardware.video ${JSON.stringify(choice.video)} disagree`,
      'set only hardware.video',
    );
  return { ...choice, video: options.video };
}

/** The VM's devices: the options' choice over the profile the image's sidecar names (`imageProfile`). */
export function vmHardware(options: VmOptions, imageProfile: string | undefined): Hardware {
  return resolveHardware(hardwareChoice(options), imageProfile);
}

/** The image as it runs on `hardware`: the guest agent's channel is virtio-serial, so hardware without virtio has none. */
export function imageOnHardware(image: BaseImage, hardware: Hardware): BaseImage {
  return hardware.virtioExtras || !image.guestAgent ? image : { ...image, guestAgent: false };
}
