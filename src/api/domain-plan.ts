/** The domain's definitions (the planned resources, then less), and defining and starting it. */
import { rm, writeFile } from 'node:fs/promises';
import {
  Domain,
  VmError,
  cpuPinning,
  currentOwner,
  domainXml,
  hostSize,
  isAllocationFailure,
  planResources,
  resourceAttempts,
  type Resources,
} from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { sleep, type Deadline, type StepTimer } from '../timeouts.js';
import type { BootRequest } from './boot-request.js';
import type { GuestChannels } from './guest-channels.js';
import { stopIfInterrupted } from './interruption.js';
import type { VncListen } from './vnc-access.js';

export interface DiskAndChannels {
  overlay: string;
  serialLog: string;
  channels: GuestChannels;
  passtSocket?: string;
  /** Where QEMU's VNC server listens. */
  vnc: VncListen;
  /** Where QEMU listens for our own monitor connection (keyboard-queue.ts). */
  monitorSocket?: string;
}

export interface DomainPlan {
  resources: Resources;
  xml: string;
}

/** The definitions to try in order: the planned resources, then less when QEMU can't get them. */
export async function planDomain(req: BootRequest, io: DiskAndChannels): Promise<DomainPlan[]> {
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
      monitorSocket: io.monitorSocket,
      pinning: cpuPinning(host.cpus, resources.cpus, req.slot ?? 0),
      owner: req.exhibit ? { exhibit: req.exhibit.config, image: req.image.name } : currentOwner({ overlay: io.overlay, image: req.image.name }),
    }),
  }));
}

/** Defines the domain from `xml`, through a file beside the overlay (removed after). */
export async function define(domain: Domain, overlay: string, xml: string): Promise<void> {
  const xmlPath = overlay.replace(/\.qcow2$/, '.xml');
  await writeFile(xmlPath, xml);
  stopIfInterrupted();
  await domain.define(xmlPath);
  await rm(xmlPath, { force: true });
}

/** Defines and starts the first plan QEMU can allocate, retrying smaller ones after an allocation failure. */
export async function defineAndStart(domain: Domain, plans: DomainPlan[], overlay: string, log: Logger, timer: StepTimer): Promise<Resources> {
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

/** Until libvirt reports the domain running; a domain that stopped during boot is an error. */
export async function waitRunning(domain: Domain, deadline: Deadline): Promise<void> {
  for (;;) {
    const state = await domain.state().catch(() => 'unknown');
    if (state === 'running') return;
    if (state === 'shut off' || state === 'crashed') throw new VmError('EVMSTOPPED', `VM ${domain.name} stopped during boot (state: ${state})`);
    deadline.check('waiting for libvirt to report running');
    await sleep(50);
  }
}
