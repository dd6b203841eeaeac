import { dirname } from 'node:path';
import { VmError, type Domain, type GuestNetwork } from '../libvirt/index.js';
import type { VncClient, VncEndpoint } from '../vnc/index.js';
import { removeRunFiles } from './run-files.js';
import { removeVncSocket } from './vnc-access.js';

/** What removing a VM takes away: its VNC connection, its domain, its guest network and its files. */
export interface RemovableVm {
  name: string;
  domain: Domain;
  vnc: VncClient;
  /** The keyboard's monitor connection, closed with VNC. */
  keyboardQueue?: { close(): void };
  network?: GuestNetwork;
  /** The VM's overlay; its run files live beside it. */
  overlay: string;
  /** Where VNC listened when the VM booted (the client forgets its endpoint once closed). */
  firstEndpoint?: VncEndpoint;
}

/**
 * Closes the VNC client, destroys and undefines the domain, then removes the guest network,
 * the overlay and run files, and the VNC socket. When libvirt can't remove the domain, QEMU
 * may still run on the overlay: everything is kept and a VmError EVMREMOVE says so.
 */
export async function removeVm(vm: RemovableVm): Promise<void> {
  await vm.vnc.close().catch(() => undefined);
  vm.keyboardQueue?.close();
  try {
    await vm.domain.remove();
  } catch (e) {
    throw new VmError('EVMREMOVE', `VM ${vm.name} could not be removed: ${(e as Error).message.split('\n')[0]}`, {
      cause: e,
      hint: `its overlay ${vm.overlay} is kept; is libvirtd running? then \`virsh destroy ${vm.name}\` or \`demotool cleanup\``,
    });
  }
  await vm.network?.close();
  await removeRunFiles(dirname(vm.overlay), vm.name);
  await removeVncSocket(vm.vnc.endpoint ?? vm.firstEndpoint);
}
