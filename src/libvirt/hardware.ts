import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * Named device sets for guests of different ages. A modern Linux guest wants virtio everywhere;
 * an XP or Windows 98 guest has no virtio drivers and boots only on the devices of its day.
 */
export const HARDWARE_PROFILES = ['modern-linux', 'legacy-windows', 'uefi'] as const;
export const DISKS = ['virtio', 'ide', 'sata'] as const;
export const NICS = ['virtio', 'e1000', 'rtl8139'] as const;
export const VIDEOS = ['virtio', 'vga', 'cirrus'] as const;
export const CLOCKS = ['utc', 'localtime'] as const;

export type HardwareProfile = (typeof HARDWARE_PROFILES)[number];

/**
 * What a user writes: a profile's name, or a profile (default: the image's, else modern-linux)
 * with single devices replaced. Spelled out (not derived from the lists above) so the docs show the names.
 */
export type HardwareChoice =
  | 'modern-linux'
  | 'legacy-windows'
  | 'uefi'
  | {
      profile?: 'modern-linux' | 'legacy-windows' | 'uefi';
      disk?: 'virtio' | 'ide' | 'sata';
      nic?: 'virtio' | 'e1000' | 'rtl8139';
      video?: 'virtio' | 'vga' | 'cirrus';
      clock?: 'utc' | 'localtime';
    };

/** The devices a domain gets, every one decided. */
export interface Hardware {
  profile: HardwareProfile;
  disk: (typeof DISKS)[number];
  nic: (typeof NICS)[number];
  video: (typeof VIDEOS)[number];
  /** 'localtime': the RTC keeps local time, as Windows expects. */
  clock: (typeof CLOCKS)[number];
  /** USB 3 (qemu-xhci), or USB 1.1 (piix3-uhci), which old Windows has drivers for. The tablet sits on it. */
  usb: 'qemu-xhci' | 'piix3-uhci';
  /** The virtio keyboard beside PS/2, and the guest agent's virtio-serial channel. */
  virtioExtras: boolean;
  /** UEFI firmware: OVMF's combined code and variables image, loaded as the BIOS (variables don't outlive the VM). */
  firmware?: string;
}

type Devices = Omit<Hardware, 'profile' | 'firmware'>;

const MODERN: Devices = { disk: 'virtio', nic: 'virtio', video: 'virtio', clock: 'utc', usb: 'qemu-xhci', virtioExtras: true };
const LEGACY: Devices = { disk: 'ide', nic: 'e1000', video: 'vga', clock: 'localtime', usb: 'piix3-uhci', virtioExtras: false };
const PROFILES: Record<HardwareProfile, Devices> = { 'modern-linux': MODERN, 'legacy-windows': LEGACY, uefi: MODERN };

/** Where distributions put OVMF as one image (code and variables), usable as QEMU's -bios. */
const OVMF_FILES = ['/usr/share/ovmf/OVMF.fd', '/usr/share/OVMF/OVMF.fd', '/usr/share/edk2/ovmf/OVMF.fd', '/usr/share/qemu/OVMF.fd'];

/** The first OVMF image present on this host, if any. */
function ovmfFirmware(candidates = OVMF_FILES): string | undefined {
  return candidates.find((f) => existsSync(f));
}

/**
 * The devices for a choice. `imageProfile` is what the image's sidecar names (used when the choice
 * names no profile). Unknown names are UsageErrors, found before any VM is defined.
 */
export function resolveHardware(choice: HardwareChoice | undefined, imageProfile?: string, firmware = ovmfFirmware): Hardware {
  const overrides = typeof choice === 'string' ? { profile: choice } : (choice ?? {});
  const profile = overrides.profile ?? imageProfile ?? 'modern-linux';
  const devices = PROFILES[profile as HardwareProfile];
  if (!devices || !Object.hasOwn(PROFILES, profile))
    throw new UsageError(
      `unknown hardware profile ${JSON.stringify(profile)}${overrides.profile ? '' : " (named by the image's sidecar)"}`,
      `known profiles: ${HARDWARE_PROFILES.join(', ')}`,
    );
  const hw: Hardware = { profile: profile as HardwareProfile, ...devices };
  for (const [key, known] of [
    ['disk', DISKS],
    ['nic', NICS],
    ['video', VIDEOS],
    ['clock', CLOCKS],
  ] as const) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!(known as readonly string[]).includes(value)) throw new UsageError(`unknown hardware ${key} ${JSON.stringify(value)}`, `known: ${known.join(', ')}`);
    (hw as unknown as Record<string, string>)[key] = value;
  }
  if (profile === 'uefi') hw.firmware = uefiFirmware(firmware);
  return hw;
}

function uefiFirmware(find: () => string | undefined): string {
  const file = find();
  if (!file)
    throw new UsageError(
      `hardware profile 'uefi' needs OVMF, and none was found (${OVMF_FILES.join(', ')})`,
      'install it: apt-get install ovmf (or `npx demotool setup --yes`); dnf install edk2-ovmf',
    );
  return file;
}
