/**
 * The closed guest network. QEMU's NIC is a `-netdev stream` connected to passt, and passt runs
 * in network and PID namespaces of its own that hold nothing but loopback and one unrouted veth.
 * So the guest reaches exactly what listens on that namespace's loopback: one relay per
 * forwarded port, each passing every guest connection to a unix socket on the host. The guest
 * reaches no host port, no other VM and no outside address; the kernel enforces it, not QEMU.
 *
 *   guest → gateway:port  →  passt (maps the gateway to loopback)  →  socat  →  unix socket
 *
 * One connection per guest request works (HTTP as old guests speak it), which QEMU's
 * guestfwd can't do, and no process is spawned by QEMU (libvirt's seccomp forbids that).
 *
 * DNS: passt's DHCP always names the gateway as the guest's DNS server (so a saved boot is the
 * same with or without network services), and passt forwards no query anywhere. The gateway's
 * UDP port 53 lands on one more socat, which hands each datagram to a unix stream socket (one
 * query per connection) and sends the answer back: the services' DNS, or without services this
 * process's own, which answers NXDOMAIN to everything. No real resolver is ever asked.
 */
import { isIPv4, type Server } from 'node:net';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createLogger, type Logger } from '../log.js';
import { sleep } from '../timeouts.js';
import { VmError } from './errors.js';
import { startNxdomainDns } from './nxdomain-dns.js';

export interface GuestNetworkSpec {
  /** The guest's address and prefix; the gateway is where the guest finds the host's services. */
  guestAddress: string;
  gateway: string;
  prefixLength: number;
  /** Gateway ports the guest may open, each relayed to a unix socket on the host. */
  forwards: { port: number; socket: string }[];
  /** The guest's DNS queries (UDP to the gateway's port 53), each relayed to this unix stream socket; default: NXDOMAIN for all, answered by this process. */
  dnsSocket?: string;
}

/** What the watchdog's guest scripts expect (the exhibition controller's hard-coded host). */
export const DEFAULT_GUEST_NETWORK: Omit<GuestNetworkSpec, 'forwards' | 'dnsSocket'> = {
  guestAddress: '192.168.122.15',
  gateway: '192.168.122.1',
  prefixLength: 24,
};

function checkGuestNetwork(spec: GuestNetworkSpec): void {
  for (const [field, value] of [
    ['guestAddress', spec.guestAddress],
    ['gateway', spec.gateway],
  ] as const)
    if (!isIPv4(value)) throw new VmError('EGUESTNET', `guest network ${field} ${JSON.stringify(value)} is not an IPv4 address`);
  if (spec.guestAddress === spec.gateway) throw new VmError('EGUESTNET', 'the guest address and the gateway must differ');
  if (!Number.isInteger(spec.prefixLength) || spec.prefixLength < 8 || spec.prefixLength > 30)
    throw new VmError('EGUESTNET', `guest network prefixLength ${spec.prefixLength} is not between 8 and 30`);
  const ports = new Set<number>();
  for (const f of spec.forwards) {
    if (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535) throw new VmError('EGUESTNET', `forwarded port ${f.port} is not 1-65535`);
    if (ports.has(f.port)) throw new VmError('EGUESTNET', `port ${f.port} is forwarded twice`);
    ports.add(f.port);
    checkRelaySocket(f.socket);
  }
  if (spec.dnsSocket !== undefined) checkRelaySocket(spec.dnsSocket);
}

function checkRelaySocket(socket: string): void {
  if (!socket.startsWith('/') || /[,:!\s'"\\]/.test(socket))
    throw new VmError('EGUESTNET', `unix socket path ${JSON.stringify(socket)} is not absolute or has characters socat can't take`);
}

/** Are passt, socat and unshare installed? */
export function guestNetworkAvailable(): boolean {
  return ['passt', 'socat', 'unshare', 'ip', 'setpriv'].every((cmd) =>
    ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'].some((dir) => existsSync(`${dir}/${cmd}`)),
  );
}

/** The shell that runs as the namespaces' init (exported for its unit test). */
export function namespaceScript(spec: GuestNetworkSpec, socket: string): string {
  const relays = spec.forwards.map((f) => `socat TCP-LISTEN:${f.port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:'${f.socket}' &`);
  // Each datagram forks a child that connects, writes the query, and sends what comes back to its sender.
  if (spec.dnsSocket) relays.push(`socat UDP4-RECVFROM:53,bind=127.0.0.1,fork UNIX-CONNECT:'${spec.dnsSocket}' &`);
  // passt's socket is what start() waits for, so passt starts once every relay listens: a guest
  // restored from a saved boot sends its first packets within a second of start().
  const listening = [...spec.forwards.map((f) => `listening -t ${f.port}`), ...(spec.dnsSocket ? ['listening -u 53'] : [])];
  // --runas 0:0 is the namespace's root: the caller's own user (or root, when run as root).
  // passt needs an interface to take its template from; the veth has a /30 and no route, so
  // nothing the guest sends to any other address leaves passt's sockets (ENETUNREACH).
  return `set -e
# Waits up to 5 s for a relay to listen on a loopback port (ss -t or -u).
listening() {
  for _ in $(seq 250); do [ -n "$(ss -Hln "$1" "sport = :$2")" ] && return 0; sleep 0.02; done
  echo "the relay for port $2 did not start" >&2
  exit 1
}
ip link set lo up
ip link add dt0 type veth peer name dt1
ip link set dt0 up
ip addr add 192.0.2.2/30 dev dt0
${relays.join('\n')}
${listening.join('\n')}
passt --foreground --quiet --runas 0:0 --ipv4-only --interface dt0 --address ${spec.guestAddress} --netmask ${spec.prefixLength} \\
  --gateway ${spec.gateway} --socket '${socket}' --dns ${spec.gateway} --no-dhcp-search --no-ndp --no-dhcpv6 --no-ra &
# This shell stays the namespace's init: when it dies (its parent died, or close()), the
# kernel kills every process in the namespace. passt's own drop of privileges would clear
# a parent-death signal, so passt can't be the one to hold it.
wait
`;
}

/**
 * Where a network that outlives this process records itself: an exhibit's VM keeps running
 * across daemon restarts, and so must the network its QEMU is connected to (QEMU can't
 * reconnect its NIC to a new passt).
 */
export interface OutlivingNetwork {
  /** The helper's pid is written here; its stderr goes to `${pidFile}.log`. */
  pidFile: string;
}

/** One VM's closed network: the namespaces, passt and the relays. Dies with this process, unless started to outlive it. */
export class GuestNetwork {
  private closing = false;
  private readonly companions: { close(): Promise<void> }[] = [];
  private nxdomain?: Server;

  private constructor(
    readonly socket: string,
    readonly spec: GuestNetworkSpec,
    private readonly pid: number,
    private readonly pidFile?: string,
  ) {}

  static async start(socket: string, spec: GuestNetworkSpec, log: Logger = createLogger('guest-network'), outlive?: OutlivingNetwork): Promise<GuestNetwork> {
    checkGuestNetwork(spec);
    if (/['\\\s]/.test(socket)) throw new VmError('EGUESTNET', `passt socket path ${JSON.stringify(socket)} has characters it can't take`);
    await rm(socket, { force: true });
    const own = ownDns(socket, spec);
    spec = { ...spec, dnsSocket: spec.dnsSocket ?? own.socket };
    const asRoot = process.getuid?.() === 0;
    // --pdeathsig: if this process dies, unshare dies; --kill-child: then the namespace's init
    // dies, and with it every process in the PID namespace (passt and the relays). A network
    // that outlives us has no parent-death signal. Either way a session of its own: the terminal's
    // Ctrl-C is ours to handle (close() stops the helper in the cleanup's order).
    const argv = [
      ...(outlive ? [] : ['--pdeathsig', 'SIGKILL']),
      'unshare',
      ...(asRoot ? [] : ['--map-root-user']),
      '--net',
      '--pid',
      '--fork',
      '--kill-child=SIGKILL',
      'sh',
      '-c',
      namespaceScript(spec, socket),
    ];
    const errorLog = outlive ? openSync(`${outlive.pidFile}.log`, 'w', 0o600) : undefined;
    const child = spawn('setpriv', argv, { stdio: ['ignore', 'ignore', errorLog ?? 'pipe'], detached: true });
    if (errorLog !== undefined) closeSync(errorLog);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.once('error', (e) => (stderr += e.message));
    const net = new GuestNetwork(socket, spec, child.pid ?? -1, outlive?.pidFile);
    net.nxdomain = own.server;
    for (let i = 0; i < 100 && !existsSync(socket); i++) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      await sleep(20);
    }
    if (outlive) stderr += readFileSync(`${outlive.pidFile}.log`, 'utf8').slice(-2000);
    if (!existsSync(socket)) {
      await net.close();
      throw new VmError('EGUESTNET', `the guest network did not start: ${stderr.trim() || 'passt made no socket'}`, {
        hint: 'install passt, socat and util-linux (`npx demotool setup --yes`), or boot with network: "open"',
      });
    }
    if (outlive) {
      writeFileSync(outlive.pidFile, `${child.pid}\n`, { mode: 0o600 });
      child.unref();
    } else
      child.once('exit', (code, signal) => {
        if (!net.closing) log.warn('guest network helper exited', { code, signal, stderr: stderr.trim() || undefined });
      });
    log.debug('guest network up', { socket, gateway: spec.gateway, ports: spec.forwards.map((f) => f.port), outlives: !!outlive });
    return net;
  }

  /**
   * The network a previous process started to outlive it, when it still runs: its pid file
   * names a live helper that serves `socket`. Else undefined (and a stale pid file is removed).
   */
  static adopt(socket: string, spec: GuestNetworkSpec, outlive: OutlivingNetwork): GuestNetwork | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(outlive.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    const net = new GuestNetwork(socket, spec, pid, outlive.pidFile);
    if (Number.isSafeInteger(pid) && pid > 0 && net.alive && existsSync(socket) && commandLineOf(pid).includes(socket)) {
      // The previous process answered its DNS: this one does now (same socket path).
      net.nxdomain = ownDns(socket, spec).server;
      return net;
    }
    rmSync(outlive.pidFile, { force: true });
    return undefined;
  }

  get alive(): boolean {
    if (this.pid <= 0) return false;
    try {
      process.kill(this.pid, 0);
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  }

  /** Closes `companion` (what the relays lead to, e.g. the network services) after the network. */
  closeAlongside(companion: { close(): Promise<void> }): void {
    this.companions.push(companion);
  }

  /**
   * This process lets go of a network that outlives it: what runs in this process (the NXDOMAIN
   * answerer, the companions) closes, so nothing keeps the process alive; the helper, passt and
   * the relays go on for the next process, which adopts them and starts its own answerers.
   */
  async leave(): Promise<void> {
    this.nxdomain?.close();
    this.nxdomain = undefined;
    for (const companion of this.companions.splice(0)) await companion.close();
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.alive) {
      // The helper is the namespace's init's parent: killing it takes passt and the relays along.
      killQuietly(this.pid);
      if (this.pidFile) killQuietly(-this.pid);
      for (let i = 0; i < 100 && this.alive; i++) await sleep(20);
    }
    await rm(this.socket, { force: true });
    if (this.pidFile) for (const f of [this.pidFile, `${this.pidFile}.log`]) await rm(f, { force: true });
    this.nxdomain?.close();
    if (this.nxdomain) await rm(`${this.socket}.dns`, { force: true });
    for (const companion of this.companions.splice(0)) await companion.close();
  }
}

/** Without a DNS socket of the services: NXDOMAIN for every query, from this process, at `${passt socket}.dns`. */
function ownDns(socket: string, spec: GuestNetworkSpec): { socket: string; server?: Server } {
  const path = `${socket}.dns`;
  return spec.dnsSocket ? { socket: path } : { socket: path, server: startNxdomainDns(path) };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
