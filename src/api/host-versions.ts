import { Virsh } from '../libvirt/index.js';

let cached: Promise<string> | undefined;

/**
 * libvirt's and QEMU's versions, as `virsh version` reports them: a saved boot is only loaded
 * by the QEMU that wrote it (a newer one may read the state differently).
 */
export function hostVersions(): Promise<string> {
  cached ??= new Virsh()
    .run(['version'], { quiet: true, timeout: 30_000 })
    .then((out) => out.trim())
    .catch((e: unknown) => {
      cached = undefined;
      throw e;
    });
  return cached;
}
