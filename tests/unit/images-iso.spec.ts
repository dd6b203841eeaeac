/**
 * ISO images without a VM: detection by content, the corrupt-image checks (on ISOs made by real
 * xorriso), the blank disk's size, and the CD-ROM in the domain XML of each hardware profile.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkIso, looksLikeIso } from '../../src/images/iso.js';
import { fromSidecar, parseSidecar, toSidecar } from '../../src/images/sidecar.js';
import { parseDiskSize } from '../../src/api/disk-size.js';
import { checkVmOptions } from '../../src/api/vm-options.js';
import { domainXml } from '../../src/libvirt/domain-xml.js';
import { resolveHardware } from '../../src/libvirt/hardware.js';
import { UsageError } from '../../src/errors.js';
import { ImageValidationError } from '../../src/images/errors.js';
import { domainSpec } from '../support/domain-spec.js';

let work: string;
test.beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-iso-unit-'));
});
test.afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A real ISO 9660 image of a few files, written by xorriso. */
async function makeIso(name: string): Promise<string> {
  const root = path.join(work, `${name}-root`);
  await fs.mkdir(root, { recursive: true });
  await fs.writeFile(path.join(root, 'hello.txt'), 'hello from a CD\n'.repeat(4096));
  const iso = path.join(work, name);
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'DEMOTOOL', '-o', iso, root]);
  return iso;
}

test('an ISO is told by its content (CD001 at byte 0x8001), whatever its name; a .iso name alone makes it one to check', async () => {
  const iso = await makeIso('plain.iso');
  const renamed = path.join(work, 'installer.img');
  await fs.copyFile(iso, renamed);
  expect(await looksLikeIso(renamed)).toBe(true);
  expect(await checkIso(renamed)).toBe((await fs.stat(iso)).size);
  const disk = path.join(work, 'disk.raw');
  await fs.writeFile(disk, Buffer.alloc(64 * 1024));
  expect(await looksLikeIso(disk)).toBe(false);
  expect(await looksLikeIso(path.join(work, 'missing.qcow2'))).toBe(false);
  expect(await looksLikeIso(path.join(work, 'missing.ISO'))).toBe(true);
});

test('a corrupt ISO is an ImageValidationError saying what is wrong, with a hint; a missing file or a directory a UsageError', async () => {
  const iso = await makeIso('good.iso');
  const bytes = await fs.readFile(iso);
  const cases: [string, Buffer, RegExp][] = [
    ['truncated.iso', bytes.subarray(0, bytes.length - 4096), /truncated: its volume is \d+ bytes, the file only \d+/],
    ['short.iso', bytes.subarray(0, 0x8000 + 100), /no ISO 9660 volume descriptor \(the file ends before/],
    ['nomagic.iso', Buffer.concat([bytes.subarray(0, 0x8001), Buffer.from('XXXXX'), bytes.subarray(0x8006)]), /no CD001 at byte 0x8001/],
    ['blank.iso', Buffer.alloc(bytes.length), /no CD001 at byte 0x8001/],
  ];
  // A primary volume descriptor whose little- and big-endian sizes disagree.
  const damaged = Buffer.from(bytes);
  damaged.writeUInt32LE(damaged.readUInt32LE(0x8050) + 7, 0x8050);
  cases.push(['damaged.iso', damaged, /primary volume descriptor is damaged/]);
  for (const [name, content, reason] of cases) {
    const file = path.join(work, name);
    await fs.writeFile(file, content);
    const error = await checkIso(file).catch((e: unknown) => e);
    expect(error, name).toBeInstanceOf(ImageValidationError);
    expect((error as Error).message, name).toMatch(reason);
    expect((error as ImageValidationError).hint, name).toMatch(/ISO 9660/);
  }
  for (const [file, message] of [
    [path.join(work, 'nope.iso'), /ISO file .*nope\.iso does not exist/],
    [work, /is not a file/],
  ] as const) {
    const error = await checkIso(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as UsageError).hint).toBeTruthy();
  }
});

test('blankDisk sizes: bytes or a number with a unit (powers of 1024), rounded up to sectors; anything else a UsageError before a VM', () => {
  expect(parseDiskSize('64M')).toBe(64 * 2 ** 20);
  expect(parseDiskSize('2G')).toBe(2 * 2 ** 30);
  expect(parseDiskSize('2GiB')).toBe(2 * 2 ** 30);
  expect(parseDiskSize('1.5g')).toBe(1.5 * 2 ** 30);
  expect(parseDiskSize(' 512 MB ')).toBe(512 * 2 ** 20);
  expect(parseDiskSize(67108864)).toBe(67108864);
  expect(parseDiskSize('1048577')).toBe(2 ** 20 + 512);
  for (const bad of ['', 'big', '2X', '-1G', '1G2', '100K', '65T', 0, -5, 1.5, 2 ** 20 - 1, NaN, Infinity, null, {}, ['1G'], true]) {
    const error = (() => {
      try {
        parseDiskSize(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(error, String(bad)).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^blankDisk /);
    expect((error as UsageError).hint).toMatch(/'64M', '2G'/);
  }
  // Through the VM options: checked with the rest, before anything happens.
  expect(checkVmOptions({ blankDisk: '64M' }).blankDiskBytes).toBe(64 * 2 ** 20);
  expect(checkVmOptions({}).blankDiskBytes).toBeUndefined();
  expect(() => checkVmOptions({ blankDisk: '2 gallons' })).toThrow(UsageError);
  expect(() => checkVmOptions({ blankDisk: true as unknown as string })).toThrow(UsageError);
});

const spec = domainSpec('demo-iso', {
  // An ISO's VM: its CD-ROM, and no disk unless it asks for a blank one.
  disk: undefined,
  vnc: { socket: '/r/vnc/demo-iso.sock' },
  owner: { pid: 1, hostname: 'h', startedAt: 'now', overlay: '/r/demo-iso.qcow2', image: 'iso-0123456789abcdef' },
  cdrom: '/c/iso-0123456789abcdef.iso',
});

test('an ISO is a read-only CD-ROM booted first: SATA beside a virtio or SATA disk, IDE beside an IDE disk; no disk without a blank one', () => {
  const cd = (xml: string) => /<disk type='file' device='cdrom'>[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? '';
  const modern = domainXml({ ...spec, disk: '/r/demo-iso.qcow2' });
  expect(cd(modern)).toContain("<source file='/c/iso-0123456789abcdef.iso'/>");
  expect(cd(modern)).toContain("<driver name='qemu' type='raw'/>");
  expect(cd(modern)).toContain("<target dev='sda' bus='sata'/>");
  expect(cd(modern)).toContain('<readonly/>');
  expect(modern).toContain("<target dev='vda' bus='virtio'/>");
  expect(modern).toMatch(/<boot dev='cdrom'\/>\s*<boot dev='hd'\/>/);
  expect(modern).not.toContain('<kernel>');

  const legacy = domainXml({ ...spec, disk: '/r/demo-iso.qcow2', hardware: resolveHardware('legacy-windows') });
  expect(cd(legacy)).toContain("<target dev='hdc' bus='ide'/>");
  expect(legacy).toContain("<target dev='hda' bus='ide'/>");
  expect(legacy).not.toContain('sata');
  const sata = domainXml({ ...spec, disk: '/r/demo-iso.qcow2', hardware: resolveHardware({ disk: 'sata' }) });
  expect(cd(sata)).toContain("<target dev='sdb' bus='sata'/>");
  expect(sata).toContain("<target dev='sda' bus='sata'/>");

  const cdOnly = domainXml(spec);
  expect(cdOnly.match(/<disk /g)).toHaveLength(1);
  expect(cdOnly).toContain("device='cdrom'");
  // A disk image's VM is as before: no CD, the disk booted.
  const { cdrom: _, ...diskSpec } = spec;
  const plain = domainXml({ ...diskSpec, disk: '/r/demo-iso.qcow2' });
  expect(plain).not.toContain('cdrom');
  expect(plain).toMatch(/<os>[\s\S]*<boot dev='hd'\/>\s*<\/os>/);
});

test("an ISO image's sidecar names its .iso (and no disk); read back, the image is a CD-ROM", () => {
  const image = { name: 'iso-0123456789abcdef', path: '/c/iso-0123456789abcdef.iso', cdrom: '/c/iso-0123456789abcdef.iso', guestAgent: false };
  const sidecar = toSidecar(image, 'iso');
  expect(sidecar.iso).toBe('iso-0123456789abcdef.iso');
  expect(sidecar.disk).toBeUndefined();
  const back = fromSidecar(parseSidecar(JSON.stringify(sidecar), '/c/x.json'), '/c/iso-0123456789abcdef.qcow2');
  expect(back).toMatchObject({ path: image.path, cdrom: image.path });
  for (const bad of [{ iso: '../etc/passwd.iso' }, { iso: 'x.qcow2' }, { iso: 'x.iso', disk: 'x.qcow2' }])
    expect(() => parseSidecar(JSON.stringify({ ...sidecar, ...bad }), '/c/x.json')).toThrow(/iso must be an \.iso file name/);
});
