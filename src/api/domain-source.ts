/**
 * `domain:NAME`: an existing libvirt domain's disk as the base of our VM's overlay. The domain is
 * checked through libvirt at every boot (it exists, is shut off, its disk is a file), recorded in
 * the image cache (a sidecar that points to its disk), and its memory, vCPUs and old-guest devices
 * become the VM's defaults when the options give none.
 */
import { availableParallelism } from 'node:os';
import { domainSpecName, type BaseImage, type ImageCache } from '../images/index.js';
import { Virsh, inspectExistingDomain, type ExistingDomain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import type { VmOptions } from './vm-options.js';

/** Whether `spec` names an existing domain (`domain:NAME`). */
export function isDomainSpec(spec: string): boolean {
  return spec.startsWith('domain:');
}

/**
 * Checks the domain and records it in the cache: what `demotool images import domain:NAME` does.
 * @throws {@link VmError} EDOMAINUNKNOWN, EDOMAINRUNNING or EDOMAINDISK before anything is made.
 */
export async function importDomain(cache: ImageCache, spec: string, log: Logger): Promise<{ image: BaseImage; found: ExistingDomain }> {
  const name = domainSpecName(spec)!;
  const found = await inspectExistingDomain(new Virsh({ log: log.child('virsh') }), name);
  const image = await cache.recordDomain(
    { domain: name, path: found.disk.path, format: found.disk.format, sizeBytes: found.disk.sizeBytes },
    { ...(found.hardware?.profile && { hardware: found.hardware.profile }), memoryMiB: found.memoryMiB },
  );
  return { image: found.boot ? { ...image, boot: found.boot } : image, found };
}

/**
 * The image and options for booting `domain:NAME`. The user's options win; what they leave out
 * comes from the domain: its old-guest devices (no `hardware` or `video` given), its memory and
 * vCPUs (no `resources` given). Always a cold boot: the domain's disk may change between runs, so
 * a saved boot of it could be stale.
 */
export async function domainImage(cache: ImageCache, spec: string, options: VmOptions, log: Logger): Promise<{ image: BaseImage; options: VmOptions }> {
  const { image, found } = await importDomain(cache, spec, log);
  const chosen: VmOptions = { ...options, start: 'cold' };
  if (options.hardware === undefined && found.hardware) {
    const { video, ...devices } = found.hardware;
    chosen.hardware = options.video === undefined && video ? { ...devices, video } : devices;
  }
  // Its memory is the image's default (recorded by importDomain): a failed allocation is then retried with less.
  chosen.resources = options.resources ?? { cpus: Math.min(found.cpus, availableParallelism()) };
  log.info('booting an existing domain through an overlay on its disk', {
    domain: found.name,
    disk: found.disk.path,
    format: found.disk.format,
    boot: found.boot ? 'kernel' : 'disk',
    hardware: options.hardware !== undefined ? 'as given' : JSON.stringify(chosen.hardware ?? 'modern-linux'),
    resources: options.resources ? 'as given' : `the domain's: ${found.memoryMiB} MiB, ${chosen.resources.cpus} vCPUs`,
    start: options.start === 'warm' ? 'cold (asked warm: a domain is always booted cold)' : 'cold',
  });
  return { image, options: chosen };
}
