import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readSaveImage, rewriteSaveImageXml } from '../../src/libvirt/save-image.js';
import { copyXml, shapeOf } from '../../src/api/saved-boots.js';

/** A save image as libvirt 9 writes one: header, XML, cookie, zero padding, then the migration stream. */
function saveImage(xml: string, cookie: string, capacity: number, stream: Buffer): Buffer {
  const header = Buffer.alloc(92);
  header.write('LibvirtQemudSave', 0, 'latin1');
  header.writeUInt32LE(2, 16);
  header.writeUInt32LE(capacity, 20);
  header.writeUInt32LE(1, 24);
  header.writeUInt32LE(Buffer.byteLength(xml) + 1, 32);
  const data = Buffer.alloc(capacity);
  data.write(`${xml}\0${cookie}\0`);
  return Buffer.concat([header, data, stream]);
}

const stream = Buffer.from('QEVM\x00\x00\x00\x03 the migration stream, never touched');

test.describe('save image header', () => {
  let dir: string;
  test.beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-saveimage-'));
  });
  test.afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('reads the XML and cookie, rewrites the XML in place, keeps the cookie and the stream', async () => {
    const file = path.join(dir, 'state.sav');
    await fs.writeFile(file, saveImage('<domain><name>a</name></domain>', '<cookie/>', 4096, stream));
    expect(await readSaveImage(file)).toEqual({ xml: '<domain><name>a</name></domain>', cookie: '<cookie/>', capacity: 4096 });

    const longer = '<domain><name>a-much-longer-name</name><uuid>x</uuid></domain>';
    await rewriteSaveImageXml(file, longer);
    expect(await readSaveImage(file)).toEqual({ xml: longer, cookie: '<cookie/>', capacity: 4096 });
    const bytes = await fs.readFile(file);
    expect(bytes.length).toBe(92 + 4096 + stream.length);
    expect(bytes.subarray(92 + 4096).equals(stream)).toBe(true);
    // The cookie offset follows the new XML, as libvirt reads it.
    expect(bytes.readUInt32LE(32)).toBe(Buffer.byteLength(longer) + 1);
  });

  test('an XML that would not fit is refused and the file is left as it was', async () => {
    const file = path.join(dir, 'state.sav');
    const original = saveImage('<domain/>', '<cookie/>', 64, stream);
    await fs.writeFile(file, original);
    await expect(rewriteSaveImageXml(file, `<domain>${'x'.repeat(100)}</domain>`)).rejects.toMatchObject({ code: 'ESAVEIMAGE' });
    expect((await fs.readFile(file)).equals(original)).toBe(true);
  });

  for (const [what, bytes] of [
    ['an empty file', Buffer.alloc(0)],
    ['another format', Buffer.concat([Buffer.from('QFI\xfb'), Buffer.alloc(200)])],
    ['a cut-off header', saveImage('<domain/>', '', 4096, stream).subarray(0, 500)],
    [
      'version 3',
      (() => {
        const b = saveImage('<domain/>', '', 64, stream);
        b.writeUInt32LE(3, 16);
        return b;
      })(),
    ],
  ] as const) {
    test(`${what} is not a save image (ESAVEIMAGE)`, async () => {
      const file = path.join(dir, 'bad.sav');
      await fs.writeFile(file, bytes);
      await expect(readSaveImage(file)).rejects.toMatchObject({ code: 'ESAVEIMAGE' });
    });
  }
});

const savedXml = `<domain type='qemu'>
  <name>demo-first-aaaaaa</name>
  <uuid>11111111-1111-1111-1111-111111111111</uuid>
  <metadata>
    <demotool:vm xmlns:demotool="https://demotool.dev/xmlns/vm/1"><demotool:owner pid="1"/></demotool:vm>
  </metadata>
  <memory unit='KiB'>524288</memory>
  <vcpu placement='static'>1</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='0'/>
  </cputune>
  <devices>
    <disk type='file' device='disk'><source file='/run/demo-first-aaaaaa.qcow2'/><address type='pci' slot='0x04'/></disk>
    <graphics type='vnc' socket='/run/vnc/demo-first-aaaaaa.sock'/>
  </devices>
</domain>`;

test('a copy gets its own name, UUID, owner, pinning and paths; devices and addresses stay as saved', () => {
  const copyOwn = `<domain><name>demo-copy-bbbbbb</name><metadata><demotool:vm><demotool:owner pid="2"/></demotool:vm></metadata>
  <vcpu placement='static'>1</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>`;
  const xml = copyXml(savedXml, 'demo-first-aaaaaa', { xml: copyOwn, name: 'demo-copy-bbbbbb', uuid: '22222222-2222-2222-2222-222222222222' });
  expect(xml).not.toContain('demo-first-aaaaaa');
  expect(xml).toContain('<name>demo-copy-bbbbbb</name>');
  expect(xml).toContain('<uuid>22222222-2222-2222-2222-222222222222</uuid>');
  expect(xml).toContain('<demotool:owner pid="2"/>');
  expect(xml).not.toContain('pid="1"');
  expect(xml).toContain("<vcpupin vcpu='0' cpuset='1'/>");
  expect(xml).not.toContain("cpuset='0'");
  expect(xml).toContain("<source file='/run/demo-copy-bbbbbb.qcow2'/><address type='pci' slot='0x04'/>");
  expect(xml).toContain("socket='/run/vnc/demo-copy-bbbbbb.sock'");

  // Without pinning in the copy's own definition, none is kept from the saved one.
  const unpinned = copyXml(savedXml, 'demo-first-aaaaaa', { xml: '<domain><metadata/></domain>', name: 'demo-c', uuid: 'u' });
  expect(unpinned).not.toContain('cputune');
});

test('the shape of a VM leaves out what differs between copies, and keeps what the guest sees', () => {
  const a = shapeOf(savedXml, 'demo-first-aaaaaa', '11111111-1111-1111-1111-111111111111');
  const b = shapeOf(
    savedXml
      .split('demo-first-aaaaaa')
      .join('demo-other-cccccc')
      .replace('11111111-1111-1111-1111-111111111111', '33333333-3333-3333-3333-333333333333')
      .replace('pid="1"', 'pid="9"')
      .replace("cpuset='0'", "cpuset='1'"),
    'demo-other-cccccc',
    '33333333-3333-3333-3333-333333333333',
  );
  expect(a).toBe(b);
  expect(shapeOf(savedXml.replace('524288', '1048576'), 'demo-first-aaaaaa', '11111111-1111-1111-1111-111111111111')).not.toBe(a);
});
