import type { DomainSpec } from '../../src/libvirt/domain-xml.js';

/**
 * A DomainSpec for the domain XML tests: a TCG VM named `name`, its overlay and serial log in
 * `dir`, on the closed network, without a VNC server or an agent, owned by a made-up process.
 * `overrides` are what a test is about.
 */
export function domainSpec(name: string, overrides: Partial<DomainSpec> = {}, dir = '/r'): DomainSpec {
  return {
    name,
    disk: `${dir}/${name}.qcow2`,
    memoryMiB: 256,
    cpus: 1,
    accel: 'tcg',
    serialLog: `${dir}/${name}.serial.log`,
    guestAgent: false,
    network: 'closed',
    owner: { pid: 1, hostname: 'h', startedAt: 'now', overlay: `${dir}/${name}.qcow2`, image: 'tiny' },
    ...overrides,
  };
}
