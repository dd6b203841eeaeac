import type { Domain } from '../libvirt/index.js';
import { UsageError } from '../errors.js';
import type { Screen, VncClient } from '../vnc/index.js';

/**
 * The machinery behind a {@link Vm}: its libvirt domain, its VNC client and the screen
 * reader on top of that client. Nothing here reports steps, explains timeouts or keeps the
 * Vm's own state (a revert through `domain` leaves the VNC client to reconnect by itself).
 */
export interface VmBackends {
  /** The libvirt domain (virsh: state, snapshots, QEMU monitor, guest agent). */
  readonly domain: Domain;
  /** The VNC client: the always-current frame mirror and raw input. */
  readonly vnc: VncClient;
  /** Screenshots, reference matching and OCR over the VNC mirror. */
  readonly screen: Screen;
}

const backends = new WeakMap<object, VmBackends>();

/** Called once by the Vm constructor. */
export function attachBackends(vm: object, parts: VmBackends): void {
  backends.set(vm, parts);
}

/**
 * The escape hatch: a VM's backends, for what its verbs don't offer (a benchmark that calls
 * virsh itself, a test that breaks libvirt on purpose).
 *
 * @remarks
 * Advanced. These objects are demotool's internals: their methods change without notice,
 * and calls through them are neither shown as steps nor checked like the Vm's verbs.
 * Prefer a Vm verb wherever one exists.
 *
 * @throws {@link UsageError} when `vm` is not a Vm this process booted.
 * @beta
 */
export function backendsOf(vm: object): VmBackends {
  const parts = backends.get(vm);
  if (!parts) throw new UsageError('backendsOf() takes a Vm', 'pass the object demo.vm() or the vm fixture gave you');
  return parts;
}
