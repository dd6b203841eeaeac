/**
 * A VM's boot: its channels and network, then a warm start from its shape's saved boot, or a cold
 * boot from its image (saved for next time), until VNC answers and the guest is ready.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Domain,
  GuestNetwork,
  Virsh,
  VmError,
  createBlankDisk,
  createOverlay,
  currentOwner,
  ownerFilePath,
  removeStaleVms,
  writeOwnerFile,
  type Resources,
  type GuestKeyboardQueue,
} from '../libvirt/index.js';
import { Screen, VncClient } from '../vnc/index.js';
import { Deadline, StepTimer } from '../timeouts.js';
import { runDir } from './state-directories.js';
import { waitUntilReady } from './readiness.js';
import { SerialConsole } from './serial.js';
import { savedBootFor } from './saved-boots.js';
import { failBoot } from './boot-failure.js';
import { installLocalCa } from './network-services.js';
import type { BootRequest } from './boot-request.js';
import { defineAndStart, define, planDomain, waitRunning, type DiskAndChannels } from './domain-plan.js';
import { guestChannels, startGuestNetwork, type GuestChannels } from './guest-channels.js';
import { saveForNextTime, setGuestClock, tryWarmStart, type ClockRoute, type StartKind } from './warm-start.js';
import { stopIfInterrupted } from './interruption.js';
import { keyboardQueueAt, monitorSocketFor } from './keyboard-queue.js';
import { preparePrivateDir, prepareVncListen, removeVncSocket, vncLocator, type VncListen } from './vnc-access.js';

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
  /** The guest keyboard's queue, read through the VM's own QEMU monitor (none for an exhibit's VM). */
  keyboardQueue?: GuestKeyboardQueue;
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
  const monitorSocket = monitorSocketFor(req);
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
    const io: DiskAndChannels = { overlay, serialLog: serial.path, channels, passtSocket: network?.socket, vnc, monitorSocket };
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
    // Ctrl-C while VNC connected or the clock was set: the cleanup has removed the VM, so the test body must not start.
    stopIfInterrupted();
    const started: StartKind = warm ? 'warm' : 'cold';
    req.log.info('vm ready', { name: req.name, image: req.image.name, accel: req.accel, started, ...timer.steps });
    return {
      domain,
      channels,
      network,
      requestLog,
      client: client!,
      screen,
      serial,
      overlay,
      resources,
      timings: timer.steps,
      started,
      keyboardQueue: keyboardQueueAt(monitorSocket),
    };
  } catch (error) {
    await sweep;
    const failure = await failBoot(req, { domain, client, overlay, serial, deadline }, error);
    await network?.close();
    for (const socket of [channels.messageSocket, channels.consoleSocket, monitorSocket]) if (socket) await rm(socket, { force: true });
    await removeVncSocket(vnc);
    throw failure;
  }
}

/** Names are unique per VM: a domain that has ours belongs to someone else and is never touched. */
async function refuseExisting(domain: Domain): Promise<void> {
  if (await new Domain(domain.name, domain.virsh).exists())
    throw new VmError('EVMEXISTS', `a VM named ${domain.name} exists already and is not ours`, { hint: 'boot again: the next name is different' });
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
