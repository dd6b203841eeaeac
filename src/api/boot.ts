import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaseImage } from '../images/index.js';
import {
  DEFAULT_GUEST_NETWORK,
  Domain,
  GuestNetwork,
  Virsh,
  VmError,
  createBlankDisk,
  createOverlay,
  cpuPinning,
  domainXml,
  guestNetworkAvailable,
  currentOwner,
  hostSize,
  isAllocationFailure,
  ownerFilePath,
  writeOwnerFile,
  planResources,
  removeStaleVms,
  resourceAttempts,
  type Accel,
  type Hardware,
  type Resources,
} from '../libvirt/index.js';
import { Screen, VncClient } from '../vnc/index.js';
import type { Logger } from '../log.js';
import { sleep } from '../timeouts.js';
import { Deadline, StepTimer } from '../timeouts.js';
import { runDir } from './state-directories.js';
import { waitUntilReady, type ReadyOptions } from './readiness.js';
import { SerialConsole } from './serial.js';
import { savedBootFor } from './saved-boots.js';
import { failBoot } from './boot-failure.js';
import { installLocalCa, startVmServices } from './network-services.js';
import type { ServiceMap } from '../network/index.js';
import { saveForNextTime, setGuestClock, stopIfInterrupted, tryWarmStart, type ClockRoute, type StartKind } from './warm-start.js';
import { checkSocketPath, preparePrivateDir, prepareVncListen, removeVncSocket, vncLocator, vncSocketDir, type VncListen } from './vnc-access.js';

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

/** The host ends of the guest's channels to a watchdog (unix sockets in the run directory). */
export interface GuestChannels {
  /** HTTP from the guest arrives here, when the closed network runs through passt. */
  apiSocket?: string;
  /** The address the guest calls for it. */
  api?: GuestApiAddress;
  /** The guest's ttyS1 (QEMU listens; connect to it). */
  messageSocket: string;
  /** The guest's serial console, ttyS0 (QEMU listens). Absent for an exhibit's VM: a pty, for `virsh console`. */
  consoleSocket?: string;
}

export interface BootedVm {
  domain: Domain;
  channels: GuestChannels;
  /** The closed network's helper, when one runs (it closes the network services too). */
  network?: GuestNetwork;
  /** The network services' request log, when the VM has services. */
  requestLog?: string;
  client: VncClient;
  screen: Screen;
  serial: SerialConsole;
  overlay: string;
  resources: Resources;
  /** Milliseconds per step. Cold: overlay, define, start, running, vnc, ready (and save, after a shape's first boot). Warm: prepare (overlay and definition), restore, vnc, ready (the clock). */
  timings: Record<string, number>;
  /** Booted from the image, or restored from a saved boot of the same shape. */
  started: StartKind;
}

/** Define, start, connect VNC and wait until the guest is ready, within one deadline. */
export async function bootVm(req: BootRequest): Promise<BootedVm> {
  const virsh = new Virsh({ log: req.log.child('virsh') });
  // Every start sweeps up VMs left by killed runs (one list, one dumpxml per demo-* VM), beside the boot:
  // this VM's owner record names a live process, so the sweep never takes it.
  const sweep = removeStaleVms(virsh, { runDir: runDir(), log: req.log.child('cleanup') }).catch((e) =>
    req.log.warn('stale VM sweep failed', { error: (e as Error).message }),
  );
  const deadline = new Deadline(req.timeoutMs, `VM ${req.name} booting ${req.image.name}`);
  const timer = new StepTimer();
  const files = req.exhibit?.directory ?? runDir();
  const overlay = join(files, `${req.name}.qcow2`);
  const serial = new SerialConsole(join(files, `${req.name}.serial.log`));
  const domain = new Domain(req.name, virsh, req.uuid);
  const channels = guestChannels(req);
  let client: VncClient | undefined;
  let network: GuestNetwork | undefined;
  let vnc: VncListen | undefined;
  try {
    await refuseExisting(domain);
    await preparePrivateDir();
    // Before the overlay: no file in the run directory is ever without a record of its owner.
    if (!req.exhibit)
      await writeOwnerFile(ownerFilePath(runDir(), req.name), currentOwner({ overlay, image: req.image.name }), { vm: req.name, uri: virsh.uri });
    else await mkdir(files, { recursive: true, mode: 0o700 });
    let requestLog: string | undefined;
    network = await startGuestNetwork(req, channels, (log) => (requestLog = log));
    vnc = await prepareVncListen(req.name);
    const io: DiskAndChannels = { overlay, serialLog: serial.path, channels, passtSocket: network?.socket, vnc };
    const plans = await planDomain(req, io);
    // A saved boot is of the planned shape; the smaller retries after an allocation failure are cold boots.
    const planned = plans[0]!;
    const savedBoots = savedBootsFor(req);
    const saved = savedBoots ? await savedBootFor(savedBoots, planned.xml, req.name, req.uuid) : undefined;
    const warm =
      saved !== undefined &&
      (await tryWarmStart(
        saved,
        { domain, uuid: req.uuid, overlay, serialLog: serial.path, xml: planned.xml, define: () => define(domain, overlay, planned.xml) },
        timer,
        deadline,
        req.log,
      ));
    let resources = planned.resources;
    if (!warm) {
      if (req.image.cdrom) await createBlankDiskFor(req, overlay);
      else await createOverlay(req.image.path, overlay, req.image.format);
      timer.mark('overlay');
      resources = await defineAndStart(domain, plans, overlay, req.log, timer);
    }
    const clockVia: ClockRoute = req.image.guestAgent || !channels.consoleSocket ? { via: 'agent' } : { via: 'console', socket: channels.consoleSocket };
    // Started before VNC, which it overlaps. `virsh restore` returns with the guest running; a started one may still be on its way.
    const clockSet = warm ? setGuestClock(domain, clockVia, req.log) : undefined;
    if (!warm) {
      await waitRunning(domain, deadline);
      timer.mark('running');
    }
    const connect = async (listen: VncListen) => {
      client = await VncClient.connect({ locate: vncLocator(domain, listen), connectTimeout: deadline.remaining(), log: req.log.child('vnc'), name: req.name });
      return { client, screen: new Screen(client, { artifactsDir: req.artifactsDir, log: req.log.child('screen') }) };
    };
    let { screen } = await connect(vnc);
    timer.mark('vnc');
    // A restored guest is as ready as when it was saved, and VNC's first full frame is in the mirror: only its clock is owed.
    if (warm) await clockSet;
    else await waitUntilReady({ screen, serial, marker: req.image.readyMarker, deadline }, req.ready);
    timer.mark('ready');
    if (saved && !warm && worthSaving(req) && resources === planned.resources) {
      // The save stops QEMU: close VNC first rather than let the client see a drop, and connect again after.
      await client!.close();
      client = undefined;
      await saveForNextTime(saved, { domain, overlay, serialLog: serial.path }, timer, req.log);
      ({ screen } = await connect(vnc));
      await setGuestClock(domain, clockVia, req.log);
    }
    // After the save: a saved boot never holds the CA, so it serves VMs with or without it.
    if (req.installLocalCa) await installLocalCa(domain, req.log);
    await sweep;
    const started: StartKind = warm ? 'warm' : 'cold';
    req.log.info('vm ready', { name: req.name, image: req.image.name, accel: req.accel, started, ...timer.steps });
    return { domain, channels, network, requestLog, client: client!, screen, serial, overlay, resources, timings: timer.steps, started };
  } catch (error) {
    await sweep;
    const failure = await failBoot(req, { domain, client, overlay, serial, deadline }, error);
    await network?.close();
    for (const socket of [channels.messageSocket, channels.consoleSocket]) if (socket) await rm(socket, { force: true });
    await removeVncSocket(vnc);
    throw failure;
  }
}

function guestChannels(req: BootRequest): GuestChannels {
  // Sockets go in the owner-only directory: no other local user can talk to the guest.
  const sockets = join(vncSocketDir(), req.name);
  const channels: GuestChannels = { messageSocket: `${sockets}.msg.sock`, ...(req.exhibit ? {} : { consoleSocket: `${sockets}.console.sock` }) };
  if ((req.network ?? 'closed') === 'closed') {
    channels.apiSocket = `${sockets}.api.sock`;
    channels.api = req.guestApi ?? DEFAULT_GUEST_API;
  }
  for (const path of [channels.messageSocket, channels.consoleSocket, channels.apiSocket, `${sockets}.net.sock`]) if (path) checkSocketPath(path);
  return channels;
}

/** The closed network through passt when it is installed; else QEMU's restrict=on (no guest API over HTTP). */
async function startGuestNetwork(req: BootRequest, channels: GuestChannels, onRequestLog: (path: string) => void): Promise<GuestNetwork | undefined> {
  if (!channels.apiSocket || !channels.api) return undefined;
  if (!guestNetworkAvailable()) {
    req.log.warn('passt or socat missing: the closed network has no guest API (serial only)', { hint: 'npx demotool setup --yes' });
    channels.apiSocket = undefined;
    channels.api = undefined;
    return undefined;
  }
  const gateway = channels.api.address;
  await preparePrivateDir();
  const services =
    req.services && (await startVmServices({ name: req.name, services: req.services, gateway, logDir: req.artifactsDir(), log: req.log.child('services') }));
  try {
    const network = await GuestNetwork.start(
      join(vncSocketDir(), `${req.name}.net.sock`),
      {
        ...DEFAULT_GUEST_NETWORK,
        guestAddress: guestAddressNear(gateway),
        gateway,
        forwards: [{ port: channels.api.port, socket: channels.apiSocket }, ...(services?.relays.forwards ?? [])],
        dnsSocket: services?.relays.dnsSocket,
      },
      req.log.child('net'),
      req.exhibit && { pidFile: exhibitNetworkPidFile(req.exhibit.directory, req.name) },
    );
    if (services) {
      network.closeAlongside(services);
      onRequestLog(services.requestLog);
    }
    return network;
  } catch (e) {
    await services?.close();
    throw e;
  }
}

/** Where an exhibit VM's network helper, which outlives the daemon, records its pid. */
export function exhibitNetworkPidFile(directory: string, name: string): string {
  return join(directory, `${name}.net.pid`);
}

/** The guest's own address: .15 of the gateway's /24 (.16 when the gateway is .15). */
function guestAddressNear(gateway: string): string {
  const prefix = gateway.split('.').slice(0, 3).join('.');
  return `${prefix}.${gateway.endsWith('.15') ? 16 : 15}`;
}

/** Names are unique per VM: a domain that has ours belongs to someone else and is never touched. */
async function refuseExisting(domain: Domain): Promise<void> {
  if (await new Domain(domain.name, domain.virsh).exists())
    throw new VmError('EVMEXISTS', `a VM named ${domain.name} exists already and is not ours`, { hint: 'boot again: the next name is different' });
}

interface DiskAndChannels {
  overlay: string;
  serialLog: string;
  channels: GuestChannels;
  passtSocket?: string;
  /** Where QEMU's VNC server listens. */
  vnc: VncListen;
}

interface DomainPlan {
  resources: Resources;
  xml: string;
}

/** The definitions to try in order: the planned resources, then less when QEMU can't get them. */
async function planDomain(req: BootRequest, io: DiskAndChannels): Promise<DomainPlan[]> {
  const host = hostSize();
  const memoryMiB = req.resources?.memoryMiB ?? req.image.memoryMiB;
  const first = planResources(host, { ...req.resources, ...(memoryMiB !== undefined ? { memoryMiB } : {}) });
  const floor = req.image.minMemoryMiB ?? 256;
  const attempts = req.resources?.memoryMiB ? [first] : resourceAttempts(first, floor);
  return attempts.map((resources) => ({
    resources,
    xml: domainXml({
      name: req.name,
      uuid: req.uuid,
      // An ISO's VM: its blank disk takes the overlay's place, if it has one.
      disk: req.image.cdrom && req.blankDiskBytes === undefined ? undefined : io.overlay,
      cdrom: req.image.cdrom,
      accel: req.accel,
      boot: bootWithArgs(req),
      serialLog: io.serialLog,
      guestAgent: req.image.guestAgent,
      network: req.network ?? 'closed',
      video: req.video,
      hardware: req.hardware,
      ...resources,
      passtSocket: io.passtSocket,
      messageSocket: io.channels.messageSocket,
      consoleSocket: io.channels.consoleSocket,
      vnc: io.vnc,
      pinning: cpuPinning(host.cpus, resources.cpus, req.slot ?? 0),
      owner: req.exhibit ? { exhibit: req.exhibit.config, image: req.image.name } : currentOwner({ overlay: io.overlay, image: req.image.name }),
    }),
  }));
}

/**
 * Where to look for this boot's saved boot, when it may start warm. Exhibit VMs are persistent and
 * keep their own snapshot, so they always boot. So do ISO images: a saved boot with a CD-ROM is untried.
 */
function savedBootsFor(req: BootRequest): string | undefined {
  return (req.start ?? 'warm') === 'warm' && !req.exhibit && !req.image.cdrom ? req.savedBoots : undefined;
}

/** An ISO image's VM: a fresh blank disk where the overlay would be (so it goes with the VM's other files), if it asked for one. */
async function createBlankDiskFor(req: BootRequest, overlay: string): Promise<void> {
  if (req.blankDiskBytes !== undefined) await createBlankDisk(overlay, req.blankDiskBytes);
}

/**
 * Only a boot found ready by the guest's own marker is saved: a fixed wait, or a screen that
 * merely stood still for a while (a bootloader's pause), may be half-way through the boot.
 */
function worthSaving(req: BootRequest): boolean {
  return (req.ready?.strategy ?? 'auto') === 'auto' && !req.ready?.needle && req.image.readyMarker !== undefined;
}

async function define(domain: Domain, overlay: string, xml: string): Promise<void> {
  const xmlPath = overlay.replace(/\.qcow2$/, '.xml');
  await writeFile(xmlPath, xml);
  await domain.define(xmlPath);
  await rm(xmlPath, { force: true });
}

async function defineAndStart(domain: Domain, plans: DomainPlan[], overlay: string, log: Logger, timer: StepTimer): Promise<Resources> {
  let lastError: unknown;
  for (const { resources, xml } of plans) {
    await define(domain, overlay, xml);
    stopIfInterrupted();
    timer.mark('define');
    try {
      await domain.start();
    } catch (e) {
      lastError = e;
      await domain.undefine();
      if (!isAllocationFailure((e as Error).message)) throw e;
      log.warn('allocation failed, retrying with 25% less', { ...resources });
      continue;
    }
    stopIfInterrupted();
    timer.mark('start');
    return resources;
  }
  throw lastError;
}

function bootWithArgs(req: BootRequest): BootRequest['image']['boot'] {
  const boot = req.image.boot;
  if (!boot || !req.kernelArgs?.length) return boot;
  return { ...boot, cmdline: `${boot.cmdline} ${req.kernelArgs.join(' ')}` };
}

async function waitRunning(domain: Domain, deadline: Deadline): Promise<void> {
  for (;;) {
    const state = await domain.state().catch(() => 'unknown');
    if (state === 'running') return;
    if (state === 'shut off' || state === 'crashed') throw new VmError('EVMSTOPPED', `VM ${domain.name} stopped during boot (state: ${state})`);
    deadline.check('waiting for libvirt to report running');
    await sleep(50);
  }
}
