/**
 * domain:NAME without a real libvirt: the cache names and sidecars of a domain's entry, and what
 * inspectExistingDomain reads from a domain's XML (a virsh that answers from a table).
 */
import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { domainImageName } from '../../src/images/domain-image.js';
import { cacheName, imageNameKind } from '../../src/images/image-names.js';
import { fromSidecar, parseSidecar } from '../../src/images/sidecar.js';
import { inspectExistingDomain, type Virsh } from '../../src/libvirt/index.js';

test('a domain gets a cache name of its own, in the cache alphabet', () => {
  expect(cacheName('domain:winxp')).toBe('domain-winxp');
  expect(imageNameKind('domain:winxp')).toBe('domain');
  // Outside the alphabet: a slug and a hash, so 'WinXP' and 'winxp' never share an entry.
  expect(domainImageName('WinXP Kiosk_1')).toMatch(/^domain-winxp-kiosk-1-[0-9a-f]{8}$/);
  expect(domainImageName('WinXP')).not.toBe(domainImageName('winxp'));
  expect(() => cacheName('domain:')).toThrow(/names no domain/);
});

test("a domain's sidecar points at its disk outside the cache, with its format", () => {
  const source = { domain: 'winxp', path: '/var/lib/libvirt/images/xp.raw', format: 'raw', sizeBytes: 1024 };
  const s = parseSidecar(JSON.stringify({ format: 1, name: 'domain-winxp', builder: 'domain', guestAgent: false, source }), 'x.json');
  expect(fromSidecar(s, '/c/images/domain-winxp.qcow2')).toMatchObject({ path: source.path, format: 'raw' });
  expect(() =>
    parseSidecar(JSON.stringify({ format: 1, name: 'domain-winxp', builder: 'domain', guestAgent: false, source: { ...source, path: 'xp.raw' } }), 'x.json'),
  ).toThrow(/absolute path of its disk/);
});

let dir: string;
test.beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'domain-source-'));
  for (const f of ['xp.qcow2', 'vmlinuz', 'initrd']) await fs.writeFile(path.join(dir, f), 'x');
});
test.afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** A virsh that knows one shut-off domain with this XML (and no running domains). */
function fakeVirsh(xml: string, state = 'shut off'): Virsh {
  const run = async (args: string[]) => {
    if (args[0] === 'domstate') return args[1] === 'src' ? state : Promise.reject(new Error('failed to get domain'));
    if (args[0] === 'dumpxml') return xml;
    if (args[0] === 'list') return '';
    throw new Error(`unexpected virsh ${args.join(' ')}`);
  };
  return { uri: 'qemu:///session', run, tryRun: run, listDomains: async () => ['src', 'other'] } as unknown as Virsh;
}

const xmlOf = (devices: string, extra = '') => `<domain type='kvm'>
  <name>src</name>
  <memory unit='GiB'>2</memory>
  <vcpu placement='static'>2</vcpu>
  <os firmware='bios'><type arch='x86_64' machine='pc-i440fx-8.2'>hvm</type>${extra}</os>
  <devices>${devices}</devices>
</domain>`;

const disk = (bus: string, format = 'qcow2', file = '') =>
  `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/x.iso'/><target dev='hdc' bus='ide'/></disk>
   <disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='${file || path.join(dir, 'xp.qcow2')}'/><target dev='x' bus='${bus}'/></disk>`;

test("an old guest's devices become legacy-windows with those devices; memory and vCPUs are read", async () => {
  const xml = xmlOf(`${disk('sata')}<interface type='user'><model type='e1000'/></interface><video><model type='cirrus'/></video>`);
  const found = await inspectExistingDomain(fakeVirsh(xml.replace('</os>', "</os><clock offset='localtime'/>")), 'src');
  expect(found).toMatchObject({
    disk: { path: path.join(dir, 'xp.qcow2'), format: 'qcow2' },
    memoryMiB: 2048,
    cpus: 2,
    hardware: { profile: 'legacy-windows', disk: 'sata', nic: 'e1000', video: 'cirrus', clock: 'localtime' },
  });
  expect(found.boot).toBeUndefined();
});

test('a modern guest keeps the default profile; EFI firmware is uefi; a kernel boot is carried over', async () => {
  expect((await inspectExistingDomain(fakeVirsh(xmlOf(disk('virtio'))), 'src')).hardware).toBeUndefined();
  const efi = xmlOf(disk('virtio')).replace("firmware='bios'", "firmware='efi'");
  expect((await inspectExistingDomain(fakeVirsh(efi), 'src')).hardware).toEqual({ profile: 'uefi' });
  const kernel = `<kernel>${dir}/vmlinuz</kernel><initrd>${dir}/initrd</initrd><cmdline>console=ttyS0</cmdline>`;
  expect((await inspectExistingDomain(fakeVirsh(xmlOf(disk('virtio'), kernel)), 'src')).boot).toEqual({
    kernel: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd`,
    cmdline: 'console=ttyS0',
  });
});

test('refusals name the problem, with a code and a hint', async () => {
  const refused = (virsh: Virsh, name = 'src') => inspectExistingDomain(virsh, name).catch((e: { code: string; message: string; hint: string }) => e);
  expect(await refused(fakeVirsh(xmlOf(disk('virtio'))), 'nope')).toMatchObject({ code: 'EDOMAINUNKNOWN', message: /domains there: src, other/ });
  expect(await refused(fakeVirsh(xmlOf(disk('virtio')), 'running'))).toMatchObject({ code: 'EDOMAINRUNNING', hint: /virsh shutdown src/ });
  expect(await refused(fakeVirsh(xmlOf(disk('virtio', 'vmdk'))))).toMatchObject({ code: 'EDOMAINDISK', message: /is vmdk/ });
  expect(await refused(fakeVirsh(xmlOf(disk('virtio', 'qcow2', '/nonexistent/xp.qcow2'))))).toMatchObject({ code: 'EDOMAINDISK', message: /missing/ });
  expect(await refused(fakeVirsh(xmlOf('')))).toMatchObject({ code: 'EDOMAINDISK', message: /has no disk/ });
  expect(await refused(fakeVirsh(xmlOf(disk('virtio'), `<kernel>${dir}/vmlinuz</kernel>`)))).toMatchObject({
    code: 'EDOMAINDISK',
    message: /without an initrd/,
  });
});
