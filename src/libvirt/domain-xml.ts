import { isIPv4 } from 'node:net';

/** Direct kernel boot: QEMU loads this kernel and initrd itself instead of the disk's bootloader. */
export interface KernelBoot {
  /** Absolute path of the kernel. */
  kernel: string;
  /** Absolute path of the initrd. */
  initrd: string;
  /** Kernel command line. */
  cmdline: string;
}
import { UsageError } from '../errors.js';
import { ownerMetadataXml, readOwner, type Ownership } from './owner.js';
import { resolveHardware, type Hardware } from './hardware.js';

/** Everything that goes into one VM's libvirt definition. */
export interface DomainSpec {
  name: string;
  /** Chosen by the caller, so that every later call can address this very domain. */
  uuid?: string;
  /** The qcow2 overlay the VM writes to (of an ISO image: its blank disk, if any). */
  disk?: string;
  /** An ISO file, attached as a read-only CD-ROM and booted first. */
  cdrom?: string;
  memoryMiB: number;
  cpus: number;
  accel: 'kvm' | 'tcg';
  /** Direct kernel boot (built-in images). */
  boot?: KernelBoot;
  /** Where the serial console is logged. */
  serialLog: string;
  /**
   * The serial console (ttyS0) on this unix socket, QEMU listening: a write reaches the guest at
   * once. Absent: a pty (`virsh console` works; QEMU looks for a reader on it once a second).
   */
  consoleSocket?: string;
  /** Add the qemu-guest-agent channel. */
  guestAgent: boolean;
  /** 'closed' (default): usermode net with restrict=on, only explicit forwards; 'open': plain usermode net. */
  network: 'closed' | 'open';
  /** Guest→host forwards that stay open on a closed network (guestfwd rules, later issues). */
  guestForwards?: { guestAddress: string; guestPort: number; hostAddress: string; hostPort: number }[];
  /** The closed network through passt (GuestNetwork): its unix socket. Without it, a closed network is QEMU's restrict=on. */
  passtSocket?: string;
  /** A second serial port (the guest's ttyS1) on this unix socket, for line-based guest messages. */
  messageSocket?: string;
  /**
   * Where QEMU's VNC server listens: a unix socket (put it in a 0700 directory: only the owner
   * may watch or type), or, only when the user asks for it, TCP on 127.0.0.1 without a password.
   * Absent: no VNC server at all (fails closed).
   */
  vnc?: { socket: string } | { tcp: '127.0.0.1' };
  /**
   * A QMP monitor of our own on this unix socket, QEMU listening (QemuMonitor): for what is asked
   * too often for virsh, the keyboard's queue. Put it in the 0700 directory too: it controls QEMU.
   */
  monitorSocket?: string;
  /**
   * 'virtio' (default): virtio-vga. Its hardware cursor reaches VNC as a Cursor shape, so the
   * pointer is not burnt into screenshots and the recorder draws the guest's own pointer.
   * 'vga': QEMU's standard VGA, where X draws the pointer into the framebuffer itself.
   */
  video?: 'vga' | 'virtio';
  /** The devices (resolveHardware()); default: modern-linux with `video`. Its video wins over `video`. */
  hardware?: Hardware;
  /** Host cores to pin the vCPUs to, one per vCPU. */
  pinning?: number[];
  /** Recorded in <metadata> so a later run can find VMs left by a killed one (an exhibit's VM is marked as such, and kept). */
  owner: Ownership;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** The spec's devices: its hardware, else today's modern-linux set. */
function hardwareOf(spec: DomainSpec): Hardware {
  return spec.hardware ?? resolveHardware({ profile: 'modern-linux', video: spec.video ?? 'virtio' });
}

function osSection(spec: DomainSpec): string {
  const firmware = hardwareOf(spec).firmware;
  // OVMF's one-file image as the BIOS: no NVRAM file to create, keep or remove with the domain.
  const loader = firmware ? `    <loader type='rom' readonly='yes'>${esc(firmware)}</loader>\n` : '';
  const boot = spec.boot
    ? `    <kernel>${esc(spec.boot.kernel)}</kernel>\n    <initrd>${esc(spec.boot.initrd)}</initrd>\n    <cmdline>${esc(spec.boot.cmdline)}</cmdline>\n`
    : spec.cdrom
      ? `    <boot dev='cdrom'/>\n    <boot dev='hd'/>\n`
      : `    <boot dev='hd'/>\n`;
  return `  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n${loader}${boot}  </os>`;
}

function cpuSection(spec: DomainSpec): string {
  const cpu =
    spec.accel === 'kvm'
      ? `  <cpu mode='host-passthrough' check='none'/>`
      : `  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model></cpu>`;
  const pins = spec.pinning?.map((core, vcpu) => `    <vcpupin vcpu='${vcpu}' cpuset='${core}'/>`).join('\n');
  return pins ? `${cpu}\n  <cputune>\n${pins}\n  </cputune>` : cpu;
}

const NIC_DEVICES: Record<Hardware['nic'], string> = { virtio: 'virtio-net-pci', e1000: 'e1000', rtl8139: 'rtl8139' };
const DISK_TARGETS: Record<Hardware['disk'], string> = { virtio: "dev='vda' bus='virtio'", ide: "dev='hda' bus='ide'", sata: "dev='sda' bus='sata'" };
/** The CD-ROM on a bus of the disk's kind: IDE beside an IDE disk, else SATA (old and new guests alike have its drivers). */
const CDROM_TARGETS: Record<Hardware['disk'], string> = { virtio: "dev='sda' bus='sata'", ide: "dev='hdc' bus='ide'", sata: "dev='sdb' bus='sata'" };
const VIDEO_MODELS: Record<Hardware['video'], string> = {
  virtio: "<model type='virtio' heads='1' primary='yes'/>",
  vga: "<model type='vga' vram='16384' heads='1' primary='yes'/>",
  cirrus: "<model type='cirrus' vram='16384' heads='1' primary='yes'/>",
};

/** Usermode networking. A closed network is QEMU's restrict=on: the guest reaches nothing but explicit forwards. */
function networkArgs(spec: DomainSpec): string[] {
  // An explicit slot: QEMU would otherwise give this NIC the slot libvirt assigns to the VGA.
  const nic = ['-device', `${NIC_DEVICES[hardwareOf(spec).nic]},netdev=dtnet0,id=dtnic0,bus=pci.0,addr=0x1e,romfile=`];
  // Fails closed: anything but exactly 'open' gets the closed network.
  if (spec.network !== 'open' && spec.passtSocket)
    return ['-netdev', `stream,id=dtnet0,server=off,addr.type=unix,addr.path=${spec.passtSocket.replace(/,/g, ',,')}`, ...nic];
  const forwards = (spec.guestForwards ?? []).map(guestForward);
  const restrict = spec.network === 'open' ? '' : ',restrict=on';
  return ['-netdev', `user,id=dtnet0${restrict}${forwards.join('')}`, ...nic];
}

/**
 * One guestfwd rule of the comma-separated -netdev string. Every value is checked, as QEMU would
 * read a ',' as the next option (',restrict=off') and ':' or '-' as the next field.
 */
export function guestForward(f: NonNullable<DomainSpec['guestForwards']>[number]): string {
  for (const key of ['guestAddress', 'hostAddress'] as const)
    if (typeof f[key] !== 'string' || !isIPv4(f[key]))
      throw new UsageError(`guestForwards: ${key} ${JSON.stringify(f[key])} is not an IPv4 address`, "use a dotted quad such as '10.0.2.100'");
  for (const key of ['guestPort', 'hostPort'] as const)
    if (!Number.isInteger(f[key]) || f[key] < 1 || f[key] > 65535)
      throw new UsageError(`guestForwards: ${key} ${JSON.stringify(f[key])} is not a port (an integer from 1 to 65535)`);
  return `,guestfwd=tcp:${f.guestAddress}:${f.guestPort}-tcp:${f.hostAddress}:${f.hostPort}`;
}

/** The VNC server. Fails closed: without a socket or an explicit TCP request there is none. */
function graphics(spec: DomainSpec): string {
  const vnc = spec.vnc;
  if (vnc && 'socket' in vnc && typeof vnc.socket === 'string' && vnc.socket.startsWith('/'))
    return `    <graphics type='vnc'>
      <listen type='socket' socket='${esc(vnc.socket)}'/>
    </graphics>
`;
  if (vnc && 'tcp' in vnc && vnc.tcp === '127.0.0.1')
    return `    <graphics type='vnc' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
`;
  if (vnc) throw new UsageError(`domain ${spec.name}: bad VNC listener ${JSON.stringify(vnc)} (an absolute socket path, or tcp: '127.0.0.1')`);
  return '';
}

/**
 * Two keyboards, unless the hardware has no virtio. QEMU hands VNC keys to the most recently
 * activated one: the virtio keyboard once the guest's virtio_input driver is bound (it has no
 * PS/2 16-byte queue to overflow, so keys can come at full speed), the PS/2 one before that, and
 * in guests without the driver. The guest agent's channel is virtio-serial, so it goes with them.
 */
function devices(spec: DomainSpec): string {
  const hw = hardwareOf(spec);
  const agent = spec.guestAgent && hw.virtioExtras ? `    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n` : '';
  const virtioKeyboard = hw.virtioExtras ? `    <input type='keyboard' bus='virtio'/>\n` : '';
  return `  <devices>
${disks(spec, hw)}    <controller type='usb' model='${hw.usb}'/>
    <input type='tablet' bus='usb'/>
    <input type='keyboard' bus='ps2'/>
${virtioKeyboard}${graphics(spec)}    <video>${VIDEO_MODELS[hw.video]}</video>
${serialConsole(spec)}${messagePort(spec)}${agent}    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
    <memballoon model='none'/>
  </devices>`;
}

/** ttyS0, logged to the serial log whether or not anyone is connected. */
function serialConsole(spec: DomainSpec): string {
  const kind = spec.consoleSocket ? 'unix' : 'pty';
  const source = spec.consoleSocket ? `\n      <source mode='bind' path='${esc(spec.consoleSocket)}'/>` : '';
  return `    <serial type='${kind}'>${source}
      <log file='${esc(spec.serialLog)}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='${kind}'>${source}<target type='serial' port='0'/></console>
`;
}

/** The VM's disk (none for an ISO booted without a blank disk), and the ISO as a read-only CD-ROM. */
function disks(spec: DomainSpec, hw: Hardware): string {
  const disk = spec.disk
    ? `    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='${esc(spec.disk)}'/>
      <target ${DISK_TARGETS[hw.disk]}/>
    </disk>
`
    : '';
  const cdrom = spec.cdrom
    ? `    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${esc(spec.cdrom)}'/>
      <target ${CDROM_TARGETS[hw.disk]}/>
      <readonly/>
    </disk>
`
    : '';
  return disk + cdrom;
}

/** ttyS1 on a unix socket QEMU listens on: the host connects (and reconnects after a QEMU restart). */
function messagePort(spec: DomainSpec): string {
  if (!spec.messageSocket) return '';
  return `    <serial type='unix'>
      <source mode='bind' path='${esc(spec.messageSocket)}'/>
      <target port='1'/>
    </serial>
`;
}

/**
 * QEMU's VNC server spaces key events key-delay-ms apart (on QEMU's clock) in its own queue, and
 * drops what overflows it. Its default, 10 ms, caps typing at ~33 characters a second. At 1 ms it
 * is faster than the client's pace (src/vnc/keyboard.ts), so it stays empty while QEMU keeps up.
 * When QEMU's main loop stalls (a write throttled by the host's dirty pages), the events that piled
 * up in the socket still reach the guest 1 ms apart instead of at once: at 0, such a burst
 * overflowed the keyboard device's queue and lost keys (e2e vnc-fast-typing stops QEMU for 300 ms).
 * QEMU's queue holds ~340 key events: a stall of more than ~0.6 s at full speed still loses some.
 * libvirt has no attribute for it; -set works as libvirt's -vnc (id 'default') comes before these args.
 */
const VNC_KEY_DELAY_ARGS = ['-set', 'vnc.default.key-delay-ms=1'];

/** QEMU's option syntax doubles a comma inside a value. */
function monitorArgs(spec: DomainSpec): string[] {
  return spec.monitorSocket ? ['-qmp', `unix:${spec.monitorSocket.replaceAll(',', ',,')},server=on,wait=off`] : [];
}

/** The libvirt domain XML for a demo VM. */
export function domainXml(spec: DomainSpec): string {
  const o = spec.owner;
  const qemuArgs = [...networkArgs(spec), ...(spec.vnc ? VNC_KEY_DELAY_ARGS : []), ...monitorArgs(spec)]
    .map((a) => `    <qemu:arg value='${esc(a)}'/>`)
    .join('\n');
  return `<domain type='${spec.accel === 'kvm' ? 'kvm' : 'qemu'}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${esc(spec.name)}</name>
${spec.uuid ? `  <uuid>${esc(spec.uuid)}</uuid>\n` : ''}
${ownerMetadataXml(o)}
  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <vcpu placement='static'>${spec.cpus}</vcpu>
${osSection(spec)}
  <features><acpi/><apic/></features>
${cpuSection(spec)}
  <clock offset='${hardwareOf(spec).clock}'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <!-- pvpanic reports a guest kernel panic at once; preserve keeps QEMU, so the watchdog can load a snapshot in place -->
  <on_crash>preserve</on_crash>
${devices(spec)}
  <qemu:commandline>
${qemuArgs}
  </qemu:commandline>
</domain>
`;
}

/**
 * The owner's pid, host and overlay out of a domain's XML, as libvirt writes it back (any quotes,
 * any entities). The whole record, with the owner's identity: readOwner() in owner.ts.
 */
export function parseOwner(xml: string): { pid: number; hostname: string; overlay?: string } | undefined {
  const owner = readOwner(xml);
  return owner && { pid: owner.pid, hostname: owner.hostname, ...(owner.overlay !== undefined ? { overlay: owner.overlay } : {}) };
}
