/** The guest's channels to a watchdog (unix sockets) and the closed network that carries its HTTP. */
import { join } from 'node:path';
import { DEFAULT_GUEST_NETWORK, GuestNetwork, guestNetworkAvailable } from '../libvirt/index.js';
import { DEFAULT_GUEST_API, type BootRequest, type GuestApiAddress } from './boot-request.js';
import { startVmServices } from './network-services.js';
import { checkSocketPath, preparePrivateDir, vncSocketDir } from './vnc-access.js';

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

/** The sockets of `req`'s VM, checked (a path too long for a socket fails here, before anything is made). */
export function guestChannels(req: BootRequest): GuestChannels {
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
export async function startGuestNetwork(req: BootRequest, channels: GuestChannels, onRequestLog: (path: string) => void): Promise<GuestNetwork | undefined> {
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
