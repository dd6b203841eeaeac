import { test, expect } from '@playwright/test';
import { slug } from '../../src/api/demo-name.js';
import { vmName } from '../../src/api/vm-name.js';
import { outputBase } from '../../src/api/output-directory.js';
import { domainXml, parseOwner } from '../../src/libvirt/domain-xml.js';
import { domainSpec } from '../support/domain-spec.js';

test('demo names become safe slugs', () => {
  expect(slug('My Cool Demo!')).toBe('my-cool-demo');
  expect(slug('../../etc')).toBe('etc');
  expect(() => slug('!!!')).toThrow(/no letters or digits/);
  // Letters of any script are kept: non-Latin names don't all fold to one name.
  expect(slug('Démo über')).toBe('démo-über');
  expect(slug('デモ')).toBe('デモ');
  expect(slug('デモ')).not.toBe(slug('演示'));
  expect(vmName('デモ', 'abc123')).toBe('demo-vm-abc123');
});

test('VM names are demo-{name}-{id}: readable, and different for every VM', () => {
  expect(vmName('my-cool-demo', 'ab12cd')).toBe('demo-my-cool-demo-ab12cd');
  const names = Array.from({ length: 200 }, () => vmName('A B'));
  for (const n of names) expect(n).toMatch(/^demo-a-b-[a-z0-9]{6}$/);
  expect(new Set(names).size).toBe(200);
  // Names that fold to one slug still give two VMs two names.
  expect(vmName('A B')).not.toBe(vmName('a-b'));
});

test('the output base is demo-videos/ under the current directory', () => {
  expect(outputBase('/some/dir')).toBe('/some/dir/demo-videos');
});

const spec = domainSpec(
  'demo-x',
  {
    memoryMiB: 1024,
    cpus: 2,
    boot: { kernel: '/c/tiny.vmlinuz', initrd: '/c/tiny.initrd', cmdline: 'console=ttyS0 a<b' },
    guestAgent: true,
    vnc: { socket: '/c/run/vnc/demo-x.sock' },
    owner: { pid: 42, hostname: 'host', startedAt: 'now', overlay: '/c/run/demo-x.qcow2', image: 'tiny' },
  },
  '/c/run',
);

test('domain XML: TCG, tablet, VNC on a unix socket, serial log, agent, escaped cmdline', () => {
  const xml = domainXml(spec);
  expect(xml).toContain("<domain type='qemu'");
  expect(xml).toContain("<input type='tablet' bus='usb'/>");
  expect(xml).toContain("<listen type='socket' socket='/c/run/vnc/demo-x.sock'/>");
  expect(xml).toContain("<log file='/c/run/demo-x.serial.log'");
  expect(xml).toContain("name='org.qemu.guest_agent.0'");
  expect(xml).toContain('<cmdline>console=ttyS0 a&lt;b</cmdline>');
  expect(xml).toContain("<target dev='vda' bus='virtio'/>");
});

test('domain XML: the network is closed (restrict=on) unless opened', () => {
  expect(domainXml(spec)).toContain('user,id=dtnet0,restrict=on');
  expect(domainXml({ ...spec, network: 'open' })).not.toContain('restrict=on');
  expect(domainXml({ ...spec, accel: 'kvm' })).toContain("<cpu mode='host-passthrough'");
});

test('the owner record survives a round trip, for stale-VM cleanup', () => {
  expect(parseOwner(domainXml(spec))).toEqual({ pid: 42, hostname: 'host', overlay: '/c/run/demo-x.qcow2' });
});
