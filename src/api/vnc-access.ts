/**
 * Who can reach a VM's screen and keyboard. By default QEMU's VNC server listens on a unix
 * socket in a directory only the owner can enter (0700), and the socket itself is made 0600:
 * no other local user can watch the guest or type into it. DEMOTOOL_VNC_TCP=1 brings back a
 * TCP listener on 127.0.0.1 (no password: every local user can connect) for tools that only
 * speak TCP; `vncAttachCommand()` is the safer way to give them one for a while.
 */
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VmError, type Domain } from '../libvirt/index.js';
import type { VncEndpoint } from '../vnc/index.js';
import { runDir } from './state-directories.js';

/** Where a VM's VNC server listens (the domain XML's <graphics> element follows it). */
export type VncListen = { socket: string } | { tcp: '127.0.0.1' };

export const VNC_TCP_ENV = 'DEMOTOOL_VNC_TCP';

/** True when DEMOTOOL_VNC_TCP asks for the old TCP listener on 127.0.0.1. */
export function vncTcpRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[VNC_TCP_ENV] ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** The private directory a VM's sockets live in (VNC, its message port, its network): {runDir}/vnc, mode 0700. */
export function vncSocketDir(): string {
  return join(runDir(), 'vnc');
}

/** The socket of one VM (whether or not it exists). */
export function vncSocketPath(vmName: string): string {
  return join(vncSocketDir(), `${vmName}.sock`);
}

/**
 * Decides where the VM's VNC server listens and prepares it: for a socket, the 0700
 * directory (created, or tightened if it exists; refused if it is not ours or a symlink).
 */
export async function prepareVncListen(vmName: string, env: NodeJS.ProcessEnv = process.env): Promise<VncListen> {
  if (vncTcpRequested(env)) return { tcp: '127.0.0.1' };
  await preparePrivateDir();
  const socket = vncSocketPath(vmName);
  checkSocketPath(socket);
  await rm(socket, { force: true });
  return { socket };
}

/** A unix socket path must fit sun_path (108 bytes with its NUL). */
export function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path) > 107)
    throw new VmError('ESOCKETPATH', `the unix socket path ${path} is longer than 107 bytes`, {
      hint: 'set XDG_CACHE_HOME to a shorter directory, or use a shorter demo name',
    });
}

/** Creates (or tightens) the 0700 socket directory; refuses one that is not ours or a symlink. */
export async function preparePrivateDir(): Promise<string> {
  const dir = vncSocketDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid))
    throw new VmError('EVNCDIR', `${dir} is not a directory owned by this user; refusing to put VNC sockets there`, {
      hint: 'remove it, or set XDG_CACHE_HOME to a directory of your own',
    });
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
  return dir;
}

/**
 * The VNC client's locate(): the socket (made 0600 again each time: QEMU creates it anew,
 * with its own umask, whenever it restarts), or libvirt's current TCP port.
 */
export function vncLocator(domain: Domain, listen: VncListen): () => Promise<VncEndpoint> {
  if ('tcp' in listen) return async () => ({ host: listen.tcp, port: await domain.vncPort() });
  return async () => {
    // Not there yet (QEMU starting): fail this attempt, so no connection is made before the chmod.
    // Not ours to change (QEMU as another user): the 0700 directory still keeps others out.
    await chmod(listen.socket, 0o600).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPERM') throw e;
    });
    return { socket: listen.socket };
  };
}

/** Removes a VM's socket (QEMU leaves it behind). Never throws. */
export async function removeVncSocket(endpoint: VncListen | VncEndpoint | undefined): Promise<void> {
  if (endpoint && 'socket' in endpoint) await rm(endpoint.socket, { force: true }).catch(() => undefined);
}

/**
 * One line that lets a TCP-only viewer (VLC, vncviewer) watch a VM for as long as it runs:
 * a bridge on 127.0.0.1:port to the VM's socket. While it runs, every local user can connect.
 */
export function vncAttachCommand(endpoint: VncEndpoint, port = 5999): string {
  if (!('socket' in endpoint)) return `vncviewer ${endpoint.host}::${endpoint.port}`;
  return `socat TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:${endpoint.socket}   # then: vncviewer 127.0.0.1::${port}`;
}
