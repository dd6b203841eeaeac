import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain .mjs module (setup runs before node_modules and the build exist)
import { isStaticElf, osIds, tinyPackages } from '../../scripts/host-packages.mjs';

test('static and dynamic ELF files are told apart by their PT_INTERP header', async () => {
  // Node itself is dynamically linked; a hand-made ELF64 with one PT_LOAD header is static.
  expect(isStaticElf(process.execPath)).toBe(false);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'elf-'));
  try {
    const elf = Buffer.alloc(64 + 56);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf.writeBigUInt64LE(64n, 0x20); // e_phoff
    elf.writeUInt16LE(56, 0x36); // e_phentsize
    elf.writeUInt16LE(1, 0x38); // e_phnum
    elf.writeUInt32LE(1, 64); // PT_LOAD
    await fs.writeFile(path.join(dir, 'static'), elf);
    expect(isStaticElf(path.join(dir, 'static'))).toBe(true);
    elf.writeUInt32LE(3, 64); // PT_INTERP
    await fs.writeFile(path.join(dir, 'dynamic'), elf);
    expect(isStaticElf(path.join(dir, 'dynamic'))).toBe(false);
    await fs.writeFile(path.join(dir, 'text'), '#!/bin/sh\n');
    expect(isStaticElf(path.join(dir, 'text'))).toBeUndefined();
    expect(isStaticElf(path.join(dir, 'missing'))).toBeUndefined();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

const debian = osIds('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
const ubuntu = osIds('NAME="Ubuntu"\nID_LIKE=debian\nID=ubuntu\n');
const mint = osIds('ID=linuxmint\nID_LIKE="ubuntu debian"\n');

test('no kernel package is installed on apt hosts: tiny unpacks one into its cache', () => {
  const kernel = (ids: unknown, kernels: string[]) => tinyPackages({ family: 'apt', ids, kernels, busybox: 'static', arch: 'x64' }).install;
  expect(kernel(debian, [])).toEqual([]);
  expect(kernel(ubuntu, [])).toEqual([]);
  expect(kernel(mint, [])).toEqual([]);
  expect(tinyPackages({ family: 'apt', ids: debian, kernels: [], busybox: 'static', arch: 'x64' }).notes.join(' ')).toContain('not installed on the host');
  expect(kernel(ubuntu, ['vmlinuz-6.8.0-40-generic'])).toEqual([]);
  expect(kernel(debian, ['vmlinuz-6.1.0-56-amd64'])).toEqual([]);
});

test('busybox-static only when /bin/busybox is missing or dynamic; replacing busybox is said', () => {
  const plan = (busybox: string) => tinyPackages({ family: 'apt', ids: debian, kernels: ['vmlinuz-6.1.0-1-amd64'], busybox });
  expect(plan('static')).toEqual({ install: [], replaces: undefined, notes: [] });
  expect(plan('missing')).toEqual({ install: ['busybox-static'], replaces: undefined, notes: [] });
  expect(plan('dynamic')).toMatchObject({ install: ['busybox-static'], replaces: { package: 'busybox-static', removes: 'busybox' } });
});
