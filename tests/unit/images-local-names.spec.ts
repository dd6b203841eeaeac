import { test, expect } from '@playwright/test';
import { UsageError } from '../../src/errors.js';
import { ImageCache } from '../../src/images/index.js';
import { LOCAL_NAME_RE, convertTimeoutMs, localFilePath, localImageName } from '../../src/images/local-file.js';
import { defaultTimeout } from '../../src/timeouts.js';
import { parseDuration } from '../../src/cli/duration.js';

test('file:PATH names a local disk file; a relative path is taken from the working directory', () => {
  expect(localFilePath('file:/srv/golden.qcow2')).toBe('/srv/golden.qcow2');
  expect(localFilePath('file:disks/a.raw', '/home/u/proj')).toBe('/home/u/proj/disks/a.raw');
  expect(localFilePath('file:../a b.vmdk', '/home/u/proj')).toBe('/home/u/a b.vmdk');
  for (const other of ['tiny', 'debian-12-desktop', 'virt-builder:fedora-42', 'file-0123456789abcdef']) expect(localFilePath(other)).toBeUndefined();
});

test('file: with no path is a UsageError', () => {
  expect(() => localFilePath('file:')).toThrow(UsageError);
});

test('a converted file is named by its content hash, in the cache-name alphabet', () => {
  const name = localImageName('0123456789abcdef'.repeat(4));
  expect(name).toBe('file-0123456789abcdef');
  expect(name).toMatch(LOCAL_NAME_RE);
  // A name the cache takes as it is (no new spelling needed to boot it again).
  expect(new ImageCache({ dir: '/x' }).pathFor(name)).toBe('/x/file-0123456789abcdef.qcow2');
});

test('a file: spec has no cache name of its own: pathFor refuses it with the way out', () => {
  const cache = new ImageCache({ dir: '/x' });
  expect(() => cache.pathFor('file:/a.qcow2')).toThrow(/images import/);
  expect(() => cache.pathFor('file:/a.qcow2')).toThrow(UsageError);
});

for (const [text, ms] of [
  ['45s', 45_000],
  ['90m', 90 * 60_000],
  ['12h', 12 * 3_600_000],
  ['30d', 30 * 86_400_000],
  ['2w', 14 * 86_400_000],
  ['0d', 0],
] as const) {
  test(`duration ${text} is ${ms} ms`, () => expect(parseDuration(text)).toBe(ms));
}

for (const bad of ['', '30', 'd', '30 days', '1.5d', '-1d', '30D', '3y']) {
  test(`duration ${JSON.stringify(bad)} is a UsageError`, () => {
    expect(() => parseDuration(bad)).toThrow(UsageError);
  });
}

test('conversion gets the qemuImg timeout plus a second per 20 MiB of the file', () => {
  expect(convertTimeoutMs(0)).toBe(defaultTimeout('qemuImg'));
  expect(convertTimeoutMs(10 * 2 ** 30) - convertTimeoutMs(0)).toBe(512_000);
  expect(convertTimeoutMs(1) - convertTimeoutMs(0)).toBe(1000);
});
