import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDeb822, parseOneLine, pickMirrors, bookwormSources, hostMirrors } from '../../src/images/builders/apt-mirror.js';
import { cpioNewc } from '../../src/images/builders/cpio.js';
import { mmdebstrapMilestone } from '../../src/images/builders/desktop.js';
import { xinitrc, configureScript } from '../../src/images/builders/desktop-guest.js';
import { newestKernel } from '../../src/images/builders/tiny.js';
import { firstbootCommand, virtBuilderArgs, virtBuilderEnv } from '../../src/images/builders/virt-builder.js';

test.describe('apt mirror from the host config', () => {
  const deb822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Enabled: yes
`;

  test('deb822 .sources', () => {
    expect(pickMirrors(parseDeb822(deb822))).toEqual({
      main: 'http://mirror.example/debian',
      security: 'http://mirror.example/debian-security',
    });
  });

  test('one-line sources.list with options and comments', () => {
    const text = `# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://one.example/debian/ bookworm main\ndeb-src http://x bookworm main\n`;
    expect(pickMirrors(parseOneLine(text))).toEqual({ main: 'http://one.example/debian', security: 'http://deb.debian.org/debian-security' });
  });

  test('disabled entries are ignored; nothing configured → deb.debian.org', () => {
    expect(pickMirrors(parseDeb822(deb822.replace('Enabled: yes', 'Enabled: no')))).toEqual({
      main: 'http://mirror.example/debian',
      security: 'http://deb.debian.org/debian-security',
    });
    expect(pickMirrors([])).toEqual({ main: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' });
  });

  test('reads an apt dir; DEMOTOOL_DEBIAN_MIRROR overrides the main mirror', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'apt-'));
    try {
      await fs.mkdir(path.join(dir, 'sources.list.d'));
      await fs.writeFile(path.join(dir, 'sources.list.d', 'debian.sources'), deb822);
      expect((await hostMirrors(dir, {})).main).toBe('http://mirror.example/debian');
      expect((await hostMirrors(dir, { DEMOTOOL_DEBIAN_MIRROR: 'http://local/debian/' })).main).toBe('http://local/debian');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('sources lines for bookworm, updates and security', () => {
    expect(bookwormSources({ main: 'http://m/debian', security: 'http://m/sec' })).toEqual([
      'deb http://m/debian bookworm main',
      'deb http://m/debian bookworm-updates main',
      'deb http://m/sec bookworm-security main',
    ]);
  });
});

test('mmdebstrap output milestones map to steps', () => {
  expect(mmdebstrapMilestone('I: downloading packages with apt...')).toEqual({ step: 'download', percent: 8 });
  expect(mmdebstrapMilestone('I: success in 97.4 seconds')?.step).toBe('mmdebstrap done');
  expect(mmdebstrapMilestone('Setting up libc6 (2.36-9) ...')).toBeUndefined();
});

test('virt-builder command line follows the spec', () => {
  const args = virtBuilderArgs('fedora-42', '/c/fedora-42.qcow2.tmp', ['@workstation-product-environment'], ['--smp', '2']);
  expect(args.slice(0, 5)).toEqual(['fedora-42', '--format', 'qcow2', '-o', '/c/fedora-42.qcow2.tmp']);
  expect(args[args.indexOf('--install') + 1]).toBe('@workstation-product-environment');
  expect(args[args.indexOf('--root-password') + 1]).toBe('password:demokudasaidomo');
  expect(args[args.indexOf('--firstboot-command') + 1]).toBe(firstbootCommand());
  expect(args.slice(-2)).toEqual(['--smp', '2']);
  expect(virtBuilderArgs('x', '/o', [])).not.toContain('--install');
});

test('firstboot command creates wheel if missing and demo in it, with the password', async () => {
  const cmd = firstbootCommand();
  expect(cmd).toContain('getent group wheel >/dev/null || groupadd wheel');
  expect(cmd).toContain('usermod -a -G wheel demo');
  expect(cmd).toContain("echo 'demo:demokudasaidomo' | chpasswd");
  await execa('sh', ['-n', '-c', cmd]); // parses as shell
});

test('virt-builder env: direct backend, TCG unless DEMOTOOL_ACCEL=kvm, caller env wins', () => {
  expect(virtBuilderEnv({}, {})).toEqual({ LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' });
  expect(virtBuilderEnv({}, { DEMOTOOL_ACCEL: 'kvm' })).toEqual({ LIBGUESTFS_BACKEND: 'direct' });
  expect(virtBuilderEnv({ VIRT_BUILDER_DIRS: '/r' }, {}).VIRT_BUILDER_DIRS).toBe('/r');
});

test('desktop guest scripts are valid shell', async () => {
  await execa('sh', ['-n', '-c', xinitrc()]);
  await execa('sh', ['-n', '-c', configureScript()]);
  expect(xinitrc()).toContain('DEMOTOOL-DESKTOP-READY');
  expect(xinitrc()).toContain('80x24+100+100');
});

test('newest kernel uses version order, not string order', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'boot-'));
  try {
    for (const n of ['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-56-amd64', 'vmlinuz-5.10.0-30-amd64', 'vmlinuz', 'config-6.1.0-99-amd64']) {
      await fs.writeFile(path.join(dir, n), '');
    }
    expect(await newestKernel(dir)).toBe(path.join(dir, 'vmlinuz-6.1.0-56-amd64'));
    expect(await newestKernel(path.join(dir, 'none'))).toBeUndefined();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('cpio newc archive unpacks with a real cpio', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cpio-'));
  try {
    const archive = cpioNewc([
      { path: 'bin', type: 'dir' },
      { path: 'bin/hello', type: 'file', data: 'hi there\n', mode: 0o755 },
      { path: 'bin/odd', type: 'file', data: Buffer.from([1, 2, 3]) },
      { path: 'bin/link', type: 'symlink', target: 'hello' },
    ]);
    await execa('busybox', ['cpio', '-i', '-d'], { cwd: dir, input: archive });
    expect(await fs.readFile(path.join(dir, 'bin/hello'), 'utf8')).toBe('hi there\n');
    expect([...(await fs.readFile(path.join(dir, 'bin/odd')))]).toEqual([1, 2, 3]);
    expect(await fs.readlink(path.join(dir, 'bin/link'))).toBe('hello');
    expect((await fs.stat(path.join(dir, 'bin/hello'))).mode & 0o777).toBe(0o755);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
