/**
 * An exhibit's VM: the one VM a `demotool exhibit` daemon runs for an artwork. Unlike a demo's
 * VM it outlives the daemon: its domain stays defined, QEMU and the guest network keep running
 * when the daemon stops or restarts, and the next daemon picks it up where it is.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageCache, type ImageRecipe } from '../images/index.js';
import { DEFAULT_GUEST_NETWORK, Domain, GuestNetwork, Virsh, VmError, readDomainXml, type Resources } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { defaultTimeout } from '../timeouts.js';
import { onCleanup } from '../process-exit.js';
import type { WatchedVm } from '../watchdog/index.js';
import { decideAccel } from './accel.js';
import { servicesSocketDir, startVmServices } from './network-services.js';
import type { ServiceMap } from '../network/index.js';
import { bootVm } from './boot.js';
import { DEFAULT_GUEST_API } from './boot-request.js';
import { exhibitNetworkPidFile, type GuestChannels } from './guest-channels.js';
import { domainScreenshot } from './domain-screenshot.js';
import { guestMonitorArgs } from './guest-monitors.js';
import { imageOnHardware, vmHardware, type HardwareChoice } from './vm-options.js';
import { removeRunFiles } from './run-files.js';
import { stateDir } from './state-directories.js';
import { vncSocketDir, vncSocketPath } from './vnc-access.js';
import { removeTwice } from './boot-guard.js';

/** Where the exhibit's VM comes from: an existing libvirt domain, run as it is, or an image demotool defines a VM from. */
export type ExhibitVmSource = { domain: string } | { image: string | ImageRecipe; name: string };

export interface ExhibitVmSpec {
  source: ExhibitVmSource;
  /** The exhibit config's absolute path: the VM is marked as this config's. */
  config: string;
  /** The snapshot recoveries return to: a VM of ours without it never finished its first start. */
  snapshot: string;
  /** How the guest's monitors reach the watchdog (set on the kernel command line of a VM defined from a built-in image). */
  transport: 'http' | 'serial';
  resources?: Partial<Resources>;
  /** The VM's devices (README, "Hardware profiles"); by default the image's own profile. */
  hardware?: HardwareChoice;
  /** The guest's network services: started with the VM's network, and again by each daemon (they live in its process). */
  services?: ServiceMap;
  log: Logger;
}

/** What the daemon found when it opened the VM: booted just now, already running, or defined and stopped. */
export type ExhibitVmFound = 'booted' | 'running' | 'stopped';

/** An exhibit VM's overlay (with its snapshots) and serial log live here, for good. */
export function exhibitDirectory(): string {
  return join(stateDir(), 'exhibit');
}

export class ExhibitVm implements WatchedVm {
  private constructor(
    readonly name: string,
    readonly domain: Domain,
    readonly channels: GuestChannels | Record<string, never>,
    private network: GuestNetwork | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Finds the exhibit's VM, or boots it from its image when it is not defined yet.
   * @throws {@link VmError} ENODOMAIN for a named domain that does not exist, EVMNOTEXHIBIT for a
   * domain of that name that some other config or tool owns; a BootError when the boot fails.
   */
  static async open(spec: ExhibitVmSpec): Promise<{ vm: ExhibitVm; found: ExhibitVmFound }> {
    const virsh = new Virsh({ log: spec.log.child('virsh') });
    if ('domain' in spec.source) {
      const domain = new Domain(spec.source.domain, virsh);
      if (!(await domain.exists()))
        throw new VmError('ENODOMAIN', `there is no libvirt domain named ${spec.source.domain} (on ${virsh.uri})`, {
          hint: 'check `virsh list --all` (and DEMOTOOL_LIBVIRT_URI), or define the VM from an image with vm.image',
        });
      const vm = new ExhibitVm(domain.name, domain, {}, undefined, spec.log);
      return { vm, found: (await vm.running()) ? 'running' : 'stopped' };
    }
    const { name, image } = spec.source;
    const domain = new Domain(name, virsh);
    if (await domain.exists()) {
      await checkMark(domain, spec.config);
      if (!(await domain.snapshots()).some((s) => s.name === spec.snapshot)) {
        // Interrupted before its snapshot was taken: what it holds was never checked. Start over.
        spec.log.warn('the VM never finished its first start (it has no snapshot): defining it anew', { vm: name, snapshot: spec.snapshot });
        await ExhibitVm.remove(name, spec.config, spec.log);
        return { vm: await ExhibitVm.boot(spec, name, image, virsh), found: 'booted' };
      }
      const xml = await domain.xml();
      const vm = new ExhibitVm(name, domain, exhibitChannels(name, xml.includes(networkSocket(name))), undefined, spec.log);
      const running = await vm.running();
      await vm.connectNetwork(running, spec.services);
      return { vm, found: running ? 'running' : 'stopped' };
    }
    return { vm: await ExhibitVm.boot(spec, name, image, virsh), found: 'booted' };
  }

  private static async boot(spec: ExhibitVmSpec, name: string, imageName: string | ImageRecipe, virsh: Virsh): Promise<ExhibitVm> {
    const cache = new ImageCache({ log: spec.log.child('images') });
    const cached = await cache.ensure(imageName);
    const hardware = vmHardware({ hardware: spec.hardware }, cached.hardware);
    const image = imageOnHardware(cached, hardware);
    const kernelArgs = image.boot ? guestMonitorArgs({ transport: spec.transport }, 'closed', DEFAULT_GUEST_API) : [];
    const directory = exhibitDirectory();
    // Ctrl-C or SIGTERM during the first boot removes the half-made VM (bootVm cleans up its own failures).
    const unregister = onCleanup(() => removeTwice(() => ExhibitVm.remove(name, spec.config, spec.log)));
    const booted = await bootVm({
      name,
      uuid: randomUUID(),
      image,
      accel: (await decideAccel(cache)).accel,
      resources: spec.resources,
      hardware,
      kernelArgs,
      services: spec.services,
      timeoutMs: defaultTimeout('boot'),
      timeoutSetBy: process.env.DEMOTOOL_BOOT_TIMEOUT ? 'env' : 'default',
      artifactsDir: () => directory,
      log: spec.log,
      exhibit: { config: spec.config, directory },
    }).finally(unregister);
    // The daemon watches the screen through libvirt; it keeps no VNC connection of its own.
    await booted.client.close();
    return new ExhibitVm(name, new Domain(name, virsh, booted.domain.uuid), booted.channels, booted.network, spec.log);
  }

  /** Running, or paused (a fault the watchdog deals with): QEMU is there. */
  async running(): Promise<boolean> {
    const state = await this.domain.state().catch(() => 'unknown');
    return state === 'running' || state === 'paused';
  }

  /** A PNG of the screen now, through libvirt. */
  screenshot(): Promise<Buffer> {
    return domainScreenshot(this.domain);
  }

  /**
   * Leaves the VM and its network running for the next daemon (the daemon stopped or restarts).
   * Nothing of this process keeps them alive, and nothing of them keeps this process alive: the
   * network services and DNS answers, which live in this process, stop until the next daemon.
   */
  async detach(): Promise<void> {
    await this.network?.leave();
    this.network = undefined;
  }

  /** Shuts the VM off (it stays defined, with its snapshots) and stops its network. */
  async shutdown(): Promise<void> {
    await this.domain.powerOff();
    await this.network?.close();
    this.network = undefined;
    this.log.info('vm shut off', { vm: this.name });
  }

  /**
   * Removes an exhibit's own VM for good: powered off, undefined with its snapshots, its overlay,
   * serial log, sockets and network gone. An operator's own domain is never removed.
   * @throws {@link VmError} EVMNOTEXHIBIT when the domain is not this config's.
   */
  static async remove(name: string, config: string, log: Logger): Promise<void> {
    const domain = new Domain(name, new Virsh({ log: log.child('virsh') }));
    if (await domain.exists()) {
      await checkMark(domain, config);
      await domain.remove();
    }
    const directory = exhibitDirectory();
    await GuestNetwork.adopt(networkSocket(name), { ...DEFAULT_GUEST_NETWORK, forwards: [] }, { pidFile: exhibitNetworkPidFile(directory, name) })?.close();
    await removeRunFiles(directory, name);
    await rm(vncSocketPath(name), { force: true });
    for (const suffix of ['msg', 'api', 'net']) await rm(join(vncSocketDir(), `${name}.${suffix}.sock`), { force: true });
    await rm(servicesSocketDir(name), { recursive: true, force: true });
  }

  /**
   * The guest network of a VM this daemon did not boot: the previous daemon's, when it still runs,
   * else a new one. A running QEMU can't reconnect its NIC to a new one: it needs a restart (a revert).
   */
  private async connectNetwork(running: boolean, serviceMap?: ServiceMap): Promise<void> {
    const channels = this.channels as GuestChannels;
    if (!channels.apiSocket || !channels.api) return;
    const directory = exhibitDirectory();
    // The services' sockets are at the same paths every time: an adopted network's relays find the new ones.
    const services =
      serviceMap &&
      (await startVmServices({ name: this.name, services: serviceMap, gateway: channels.api.address, logDir: directory, log: this.log.child('services') }));
    const spec = {
      ...DEFAULT_GUEST_NETWORK,
      forwards: [{ port: channels.api.port, socket: channels.apiSocket }, ...(services?.relays.forwards ?? [])],
      dnsSocket: services?.relays.dnsSocket,
    };
    const socket = networkSocket(this.name);
    const outlive = { pidFile: exhibitNetworkPidFile(directory, this.name) };
    this.network = GuestNetwork.adopt(socket, spec, outlive);
    if (!this.network) {
      this.network = await GuestNetwork.start(socket, spec, this.log.child('net'), outlive).catch(async (e: unknown) => {
        await services?.close();
        throw e;
      });
      if (running) this.networkRestarted = true;
    }
    if (services) this.network.closeAlongside(services);
  }

  /** The guest network was started anew under a running QEMU: the guest can't reach the watchdog until QEMU restarts. */
  networkRestarted = false;
}

/** The sockets an exhibit VM defined from an image has (the same paths every boot); the guest API when it was booted with the closed network. */
function exhibitChannels(name: string, withNetwork: boolean): GuestChannels {
  const base = join(vncSocketDir(), name);
  return withNetwork ? { messageSocket: `${base}.msg.sock`, apiSocket: `${base}.api.sock`, api: DEFAULT_GUEST_API } : { messageSocket: `${base}.msg.sock` };
}

/** passt's socket, which QEMU's NIC connects to. */
function networkSocket(name: string): string {
  return join(vncSocketDir(), `${name}.net.sock`);
}

/** A domain of the exhibit's name must carry this config's mark: never take over someone else's VM. */
async function checkMark(domain: Domain, config: string): Promise<void> {
  const { exhibit } = readDomainXml(await domain.xml());
  if (exhibit === config) return;
  throw new VmError(
    'EVMNOTEXHIBIT',
    exhibit === undefined
      ? `a libvirt domain named ${domain.name} exists and was not defined by demotool exhibit`
      : `the VM ${domain.name} belongs to another exhibit config (${exhibit})`,
    { hint: 'give vm.name another name, or run that domain as it is with vm.domain' },
  );
}
