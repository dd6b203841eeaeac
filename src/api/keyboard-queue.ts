/**
 * The VM's own QEMU monitor, through which its keyboard reads the guest keyboard's queue, so that
 * typing never overflows it (src/vnc/key-flow.ts). An exhibit's VM has none: it outlives the
 * process, and nothing types into it.
 */
import { join } from 'node:path';
import { QemuMonitor, GuestKeyboardQueue } from '../libvirt/index.js';
import type { BootRequest } from './boot-request.js';
import { checkSocketPath, vncSocketDir } from './vnc-access.js';

/** Where QEMU listens for it: beside the VNC socket, in the owner-only directory (the monitor controls QEMU). */
export function monitorSocketFor(req: BootRequest): string | undefined {
  if (req.exhibit) return undefined;
  const path = join(vncSocketDir(), `${req.name}.qmp.sock`);
  checkSocketPath(path);
  return path;
}

/** Connects on its first read; `close()` it with the VM. */
export function keyboardQueueAt(monitorSocket: string | undefined): GuestKeyboardQueue | undefined {
  return monitorSocket ? new GuestKeyboardQueue(new QemuMonitor(monitorSocket)) : undefined;
}
