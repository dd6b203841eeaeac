import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BaseImage } from '../../src/images/index.js';
import { fromSidecar, parseSidecar, readSidecar, toSidecar, writeSidecar } from '../../src/images/sidecar.js';

const desktop: BaseImage = {
  name: 'debian-12-desktop',
  path: '/c/images/debian-12-desktop.qcow2',
  boot: {
    kernel: '/c/images/debian-12-desktop.vmlinuz',
    initrd: '/c/images/debian-12-desktop.initrd',
    cmdline: 'root=/dev/vda rw console=tty0 console=ttyS0,115200 quiet',
  },
  readyMarker: 'DEMOTOOL-DESKTOP-READY',
  guestAgent: true,
  user: { name: 'demo', password: 'demokudasaidomo' },
  minMemoryMiB: 1024,
  memoryMiB: 2048,
};

test('round-trips a BaseImage through the JSON sidecar', () => {
  const s = toSidecar(desktop, 'debian-12-desktop', new Date('2026-01-02T03:04:05Z'));
  const back = fromSidecar(parseSidecar(JSON.stringify(s), 'x.json'), desktop.path);
  expect(back).toEqual(desktop);
  expect(s.builtAt).toBe('2026-01-02T03:04:05.000Z');
  expect(s.builder).toBe('debian-12-desktop');
});

test("a built-in image's sidecar from before memoryMiB gets the image's memory; other images get none (half the host)", () => {
  const { memoryMiB: _memory, ...older } = toSidecar(desktop, 'debian-12-desktop');
  expect(fromSidecar(parseSidecar(JSON.stringify(older), 'x.json'), desktop.path).memoryMiB).toBe(2048);
  const tiny = { ...older, name: 'tiny', builder: 'tiny' };
  expect(fromSidecar(parseSidecar(JSON.stringify(tiny), 'x.json'), desktop.path).memoryMiB).toBe(512);
  const other = { ...older, name: 'fedora-42', builder: 'virt-builder' };
  expect(fromSidecar(parseSidecar(JSON.stringify(other), 'x.json'), desktop.path).memoryMiB).toBeUndefined();
});

test('kernel and initrd are stored relative, so a moved cache still works', () => {
  const s = toSidecar(desktop, 'debian-12-desktop');
  expect(s.boot?.kernel).toBe('debian-12-desktop.vmlinuz');
  expect(s.boot?.initrd).toBe('debian-12-desktop.initrd');
  const moved = fromSidecar(s, '/elsewhere/debian-12-desktop.qcow2');
  expect(moved.boot?.kernel).toBe('/elsewhere/debian-12-desktop.vmlinuz');
  expect(moved.path).toBe('/elsewhere/debian-12-desktop.qcow2');
});

test('an image without a boot spec (virt-builder) round-trips without one', () => {
  const img: BaseImage = { name: 'fedora-42', path: '/c/fedora-42.qcow2', guestAgent: false, user: { name: 'demo', password: 'p' } };
  const back = fromSidecar(parseSidecar(JSON.stringify(toSidecar(img, 'virt-builder')), 'x'), img.path);
  expect(back).toEqual(img);
  expect('boot' in back).toBe(false);
});

test('rejects files that are not sidecars', () => {
  expect(() => parseSidecar('{"name":"x"}', 'a.json')).toThrow(/format 1/);
  expect(() => parseSidecar('{"format":1,"name":"x","boot":{"kernel":"k"}}', 'a.json')).toThrow(/kernel, initrd and cmdline/);
  expect(() => parseSidecar('not json', 'a.json')).toThrow();
});

test('writeSidecar/readSidecar on disk, leaving no temp file', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sidecar-'));
  try {
    const file = path.join(dir, 'tiny.json');
    const s = { ...toSidecar({ ...desktop, path: path.join(dir, 'x.qcow2') }, 'tiny'), recipe: 3 };
    await writeSidecar(file, s);
    expect(await readSidecar(file)).toEqual(JSON.parse(JSON.stringify(s)));
    expect(await fs.readdir(dir)).toEqual(['tiny.json']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
