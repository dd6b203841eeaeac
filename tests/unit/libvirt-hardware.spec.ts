import { test, expect } from '@playwright/test';
import { domainXml, type DomainSpec } from '../../src/libvirt/domain-xml.js';
import { resolveHardware } from '../../src/libvirt/hardware.js';
import { checkVmOptions, vmHardware, type VmOptions } from '../../src/api/vm-options.js';
import { UsageError } from '../../src/errors.js';
import { fromSidecar, parseSidecar, toSidecar } from '../../src/images/sidecar.js';
import { domainSpec } from '../support/domain-spec.js';

const spec = domainSpec('demo-hw', { guestAgent: true, vnc: { socket: '/r/vnc/demo-hw.sock' } });
const ovmf = () => '/usr/share/ovmf/OVMF.fd';
const xmlFor = (choice: Parameters<typeof resolveHardware>[0], extra: Partial<DomainSpec> = {}) =>
  domainXml({ ...spec, ...extra, hardware: resolveHardware(choice, undefined, ovmf) });

test('modern-linux is exactly the XML a spec without hardware gets (today’s default)', () => {
  expect(xmlFor('modern-linux')).toBe(domainXml(spec));
  expect(xmlFor({ video: 'vga' })).toBe(domainXml({ ...spec, video: 'vga' }));
  const xml = domainXml(spec);
  expect(xml).toContain("<target dev='vda' bus='virtio'/>");
  expect(xml).toContain("<model type='virtio' heads='1' primary='yes'/>");
  expect(xml).toContain("<input type='keyboard' bus='virtio'/>");
  expect(xml).toContain("<controller type='usb' model='qemu-xhci'/>");
  expect(xml).toContain("<clock offset='utc'/>");
  expect(xml).toContain("machine='pc'");
  expect(xml).toContain('virtio-net-pci,netdev=dtnet0');
  expect(xml).toContain('org.qemu.guest_agent.0');
  expect(xml).not.toContain('<loader');
});

test('legacy-windows: IDE disk, e1000, standard VGA, PS/2 keyboard, USB 1.1 tablet, local time, and no virtio anywhere', () => {
  for (const extra of [{}, { passtSocket: '/r/passt.sock' }, { network: 'open' as const }]) {
    const xml = xmlFor('legacy-windows', extra);
    expect(xml).not.toMatch(/virtio/i);
    expect(xml).toContain("<target dev='hda' bus='ide'/>");
    expect(xml).toContain("<qemu:arg value='-device'/>\n    <qemu:arg value='e1000,netdev=dtnet0,id=dtnic0,bus=pci.0,addr=0x1e,romfile='/>");
    expect(xml).toContain("<model type='vga' vram='16384' heads='1' primary='yes'/>");
    expect(xml).toContain("<input type='keyboard' bus='ps2'/>");
    expect(xml).toContain("<controller type='usb' model='piix3-uhci'/>");
    expect(xml).toContain("<input type='tablet' bus='usb'/>");
    expect(xml).toContain("<clock offset='localtime'/>");
    // The agent's channel is virtio-serial: left out, though the spec asks for the agent.
    expect(xml).not.toContain('guest_agent');
  }
});

test('uefi: modern-linux devices on OVMF, loaded as the BIOS (no NVRAM file to clean up)', () => {
  const xml = xmlFor('uefi');
  expect(xml).toContain("<loader type='rom' readonly='yes'>/usr/share/ovmf/OVMF.fd</loader>");
  expect(xml).not.toContain('<nvram');
  expect(xml.replace(/\s*<loader[^\n]*<\/loader>/, '')).toBe(domainXml(spec));
});

test('single devices override the profile; the rest of the profile stays', () => {
  const xml = xmlFor({ profile: 'legacy-windows', disk: 'sata', nic: 'rtl8139', video: 'cirrus', clock: 'utc' });
  expect(xml).toContain("<target dev='sda' bus='sata'/>");
  expect(xml).toContain("value='rtl8139,netdev=dtnet0,id=dtnic0,bus=pci.0,addr=0x1e,romfile='");
  expect(xml).toContain("<model type='cirrus' vram='16384' heads='1' primary='yes'/>");
  expect(xml).toContain("<clock offset='utc'/>");
  expect(xml).toContain("<controller type='usb' model='piix3-uhci'/>");
  expect(xml).not.toMatch(/virtio/i);
  // Without a profile the overrides apply to modern-linux.
  const modern = xmlFor({ disk: 'ide' });
  expect(modern).toContain("<target dev='hda' bus='ide'/>");
  expect(modern).toContain('virtio-net-pci');
});

test("an image's profile is used unless the options name one; the options' devices still apply", () => {
  expect(resolveHardware(undefined, 'legacy-windows').disk).toBe('ide');
  expect(resolveHardware({ nic: 'rtl8139' }, 'legacy-windows')).toMatchObject({ profile: 'legacy-windows', disk: 'ide', nic: 'rtl8139' });
  expect(resolveHardware('modern-linux', 'legacy-windows').disk).toBe('virtio');
  expect(vmHardware({ video: 'vga' }, 'legacy-windows')).toMatchObject({ profile: 'legacy-windows', video: 'vga', nic: 'e1000' });
  expect(() => resolveHardware(undefined, 'windows-xp')).toThrow(/unknown hardware profile "windows-xp" \(named by the image's sidecar\)/);
  expect(() => resolveHardware(undefined, 'constructor')).toThrow(UsageError);
});

test('uefi without OVMF on the host is a UsageError that says what to install', () => {
  expect(() => resolveHardware('uefi', undefined, () => undefined)).toThrow(/needs OVMF[\s\S]*/);
  try {
    resolveHardware('uefi', undefined, () => undefined);
  } catch (e) {
    expect((e as UsageError).hint).toContain('apt-get install ovmf');
  }
});

const bad: [string, unknown, RegExp][] = [
  ['an unknown profile', 'windows-xp', /VM option hardware\.profile: Invalid option: expected one of "modern-linux"\|"legacy-windows"\|"uefi"/],
  ['an unknown profile in the object', { profile: 'win98' }, /hardware\.profile/],
  ['an unknown disk bus', { disk: 'scsi' }, /hardware\.disk: Invalid option: expected one of "virtio"\|"ide"\|"sata"/],
  ['an unknown NIC', { profile: 'legacy-windows', nic: 'ne2k' }, /hardware\.nic/],
  ['an unknown video adapter', { video: 'qxl' }, /hardware\.video/],
  ['an unknown clock', { clock: 'gmt' }, /hardware\.clock/],
  ['a typo in a device name', { profile: 'legacy-windows', nics: 'e1000' }, /unknown VM option "hardware\.nics"/],
  ['a number', 42, /VM option hardware/],
  ['an empty profile name', '', /hardware\.profile/],
  ['a profile in the wrong case', 'Legacy-Windows', /hardware\.profile/],
];

for (const [what, hardware, message] of bad) {
  test(`refused before anything happens: ${what}`, () => {
    expect(() => checkVmOptions({ hardware } as unknown as VmOptions)).toThrow(UsageError);
    expect(() => checkVmOptions({ hardware } as unknown as VmOptions)).toThrow(message);
  });
}

test('video and hardware.video naming different adapters is refused; naming the same one is fine', () => {
  expect(() => checkVmOptions({ video: 'vga', hardware: { video: 'cirrus' } })).toThrow(/disagree/);
  expect(() => checkVmOptions({ video: 'vga', hardware: { profile: 'legacy-windows', video: 'vga' } })).not.toThrow();
  expect(() => checkVmOptions({ hardware: 'legacy-windows' })).not.toThrow();
});

test("an image's sidecar carries its profile: written, read back, and a bad one refused", () => {
  const image = { name: 'xp', path: '/c/xp.qcow2', guestAgent: false, hardware: 'legacy-windows' };
  const sidecar = toSidecar(image, 'file');
  expect(sidecar.hardware).toBe('legacy-windows');
  const back = fromSidecar(parseSidecar(JSON.stringify(sidecar), '/c/xp.json'), '/c/xp.qcow2');
  expect(back.hardware).toBe('legacy-windows');
  expect(fromSidecar(parseSidecar(JSON.stringify({ ...sidecar, hardware: undefined }), '/c/xp.json'), '/c/xp.qcow2').hardware).toBeUndefined();
  for (const hardware of [42, '', 'Legacy Windows', { profile: 'uefi' }])
    expect(() => parseSidecar(JSON.stringify({ ...sidecar, hardware }), '/c/xp.json')).toThrow(/hardware must be a profile's name/);
});
