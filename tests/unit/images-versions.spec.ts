import { test, expect } from '@playwright/test';
import { isBuildLeftover, newBuildId, versionFiles, versionOf } from '../../src/images/image-names.js';
import { parseSidecar } from '../../src/images/sidecar.js';

test('a build id is UTC time plus 4 hex digits, and build files never collide with image names', () => {
  expect(newBuildId(new Date('2026-11-26T02:15:33.123Z'), () => 0.5)).toBe('20261126-021533-8000');
  expect(versionFiles('/c', 'tiny', '20261126-021533-8000')).toEqual({
    qcow2: '/c/tiny_20261126-021533-8000.qcow2',
    kernel: '/c/tiny_20261126-021533-8000.vmlinuz',
    initrd: '/c/tiny_20261126-021533-8000.initrd',
  });
});

test("versionOf tells an image's builds from other images' files", () => {
  expect(versionOf('tiny', 'tiny_20261126-021533-8000.qcow2')).toBe('20261126-021533-8000');
  expect(versionOf('tiny', 'tiny_20261126-021533-8000.vmlinuz')).toBe('20261126-021533-8000');
  expect(versionOf('tiny', 'tiny.qcow2')).toBe('');
  expect(versionOf('tiny', 'tiny.initrd')).toBe('');
  for (const other of ['tiny.json', 'tiny.lock', 'tiny.build-x.qcow2', 'tiny-2.qcow2', 'tiny.qcow2.qcow2', 'tiny.5_1.qcow2', 'xtiny.qcow2', 'tiny_x.json'])
    expect(versionOf('tiny', other), other).toBeUndefined();
  expect(versionOf('debian-12.5', 'debian-12.5_20261126-021533-8000.qcow2')).toBe('20261126-021533-8000');
  expect(versionOf('debian-12.5', 'debian-12x5.qcow2')).toBeUndefined();
});

test("isBuildLeftover matches only the image's own temp files and build directories", () => {
  for (const mine of ['tiny.qcow2.tmp-4242-abcdef', 'tiny.vmlinuz.tmp-1-0a1b2c', 'tiny.json.tmp-77', 'tiny.build-Ab12Cd'])
    expect(isBuildLeftover('tiny', mine), mine).toBe(true);
  // Files of images named tiny.build-x, tiny.qcow2.tmp-1-ab, tiny-2: never tiny's leftovers.
  for (const other of [
    'tiny.build-x.qcow2',
    'tiny.build-x.json',
    'tiny.build-x.lock',
    'tiny.qcow2.tmp-1-ab.qcow2',
    'tiny-2.build-abcdef',
    'tiny.qcow2',
    'tiny.json',
    'tiny_20261126-021533-8000.qcow2',
  ])
    expect(isBuildLeftover('tiny', other), other).toBe(false);
  expect(isBuildLeftover('tiny.build-x', 'tiny.build-x.build-Qw12Er')).toBe(true);
  expect(isBuildLeftover('tiny.build-x', 'tiny.build-Qw12Er')).toBe(false);
});

test('a sidecar names its disk by file name only', () => {
  const base = { format: 1, name: 'tiny', builder: 'tiny', builtAt: 'x', guestAgent: false };
  expect(parseSidecar(JSON.stringify({ ...base, disk: 'tiny_20261126-021533-8000.qcow2' }), 'x').disk).toBe('tiny_20261126-021533-8000.qcow2');
  expect(parseSidecar(JSON.stringify(base), 'x').disk).toBeUndefined();
  for (const disk of ['../etc/passwd.qcow2', '/abs/tiny.qcow2', 'tiny.raw', 42])
    expect(() => parseSidecar(JSON.stringify({ ...base, disk }), 'x'), String(disk)).toThrow(/disk/);
});
