/**
 * A VM's network services on the host side (archives, mirrors, mocks, a DNS responder) and
 * where the closed guest network meets them: the guest's DNS server and its ports 80 and 443 on
 * the gateway are relayed to the services' unix sockets. Nothing else is reachable.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCa, NetworkServices, type ServiceMap } from '../network/index.js';
import type { Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { GuestAgent, GuestAgentError } from './guest-agent.js';
import { vncSocketDir } from './vnc-access.js';

/** Where the guest finds the local CA after `installLocalCa` (for `wget --ca-certificate=`, Java or NSS imports). */
export const GUEST_CA_PATH = '/etc/demotool/ca.pem';

/** A VM's running services and the relays the guest network adds for them. */
export interface VmServices {
  services: NetworkServices;
  /** The JSON-lines log of every guest request: served, missing or refused. */
  requestLog: string;
  /** What the guest network relays to them: the gateway's ports 80 and 443, and its DNS. */
  relays: { forwards: { port: number; socket: string }[]; dnsSocket: string };
  close(): Promise<void>;
}

/** Where a VM's network services listen: a directory of sockets beside its other sockets. */
export function servicesSocketDir(vmName: string): string {
  return join(vncSocketDir(), `${vmName}.services`);
}

/**
 * Starts `services` for VM `name`: sockets in a directory of its own beside its other sockets,
 * DNS answers pointing at `gateway`, the request log in `logDir`.
 */
export async function startVmServices(o: { name: string; services: ServiceMap; gateway: string; logDir: string; log: Logger }): Promise<VmServices> {
  // `{vm}.services`: the VM's run files, so the run-file sweeps take it after a crash too.
  const socketDir = servicesSocketDir(o.name);
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await mkdir(o.logDir, { recursive: true });
  const requestLog = join(o.logDir, `${o.name}.requests.jsonl`);
  let services: NetworkServices;
  try {
    services = await NetworkServices.start({ services: o.services, socketDir, address: o.gateway, requestLog, log: o.log });
  } catch (e) {
    await rm(socketDir, { recursive: true, force: true });
    throw e;
  }
  o.log.debug('network services up', { names: Object.keys(o.services), requestLog });
  return {
    services,
    requestLog,
    relays: {
      forwards: [
        { port: 80, socket: services.httpSocket },
        { port: 443, socket: services.httpsSocket },
      ],
      dnsSocket: services.dnsSocket,
    },
    close: async () => {
      await services.close();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * Puts the local CA into the guest's trust store through the guest agent, and at
 * {@link GUEST_CA_PATH}. What update-ca-certificates would do, done by hand: it rehashes every
 * certificate, over a minute under TCG. The copy in /usr/local/share/ca-certificates keeps the CA
 * in the store when the guest runs update-ca-certificates itself.
 */
export async function installLocalCa(domain: Domain, log: Logger): Promise<void> {
  const ca = await LocalCa.load();
  const pem = ca.certPem.replace(/\r/g, '').trim();
  if (!/^[-A-Za-z0-9+/=\s]+$/.test(pem)) throw new GuestAgentError('ELOCALCA', `the local CA certificate ${ca.certPath} is not PEM`);
  const script = `set -e
mkdir -p /etc/demotool /usr/local/share/ca-certificates /etc/ssl/certs
cat > ${GUEST_CA_PATH} <<'DEMOTOOL_EOF'
${pem}
DEMOTOOL_EOF
cp ${GUEST_CA_PATH} /usr/local/share/ca-certificates/demotool.crt
ln -sf /usr/local/share/ca-certificates/demotool.crt /etc/ssl/certs/demotool.pem
ln -sf demotool.pem "/etc/ssl/certs/$(openssl x509 -hash -noout -in ${GUEST_CA_PATH}).0"
grep -qF "$(sed -n 2p ${GUEST_CA_PATH})" /etc/ssl/certs/ca-certificates.crt 2>/dev/null || cat ${GUEST_CA_PATH} >> /etc/ssl/certs/ca-certificates.crt`;
  const result = await new GuestAgent(domain, true).exec(script, { user: 'root' });
  if (result.exitCode !== 0)
    throw new GuestAgentError('ELOCALCA', `installing the local CA in the guest failed (exit ${result.exitCode}): ${result.stderr.trim()}`, {
      hint: 'installLocalCa needs a Debian-like guest with ca-certificates and openssl (the debian-12-desktop image has them)',
    });
  log.debug('local CA installed in the guest', { path: GUEST_CA_PATH });
}
