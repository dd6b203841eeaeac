import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../../src/images/index.js';
import { closestBuiltIn, imageNameKind } from '../../src/images/image-names.js';
import { editDistance } from '../../src/closest-name.js';
import { UsageError } from '../../src/errors.js';
import type { LogFields, Logger } from '../../src/log.js';

/** Every tool an image build could reach the network or the disk with, as a fake that notes its call. */
const TOOLS = ['virt-builder', 'curl', 'wget', 'gpg', 'qemu-img', 'mmdebstrap', 'debootstrap', 'guestfish'];

let tmp: string;
let calls: string;
let fakePath: string;

test.beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-names-'));
  calls = path.join(tmp, 'calls');
  const bin = path.join(tmp, 'bin');
  await fs.mkdir(bin);
  for (const tool of TOOLS) await fs.writeFile(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 });
  fakePath = `${bin}:${process.env.PATH}`;
});

test.afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const called = () => fs.readFile(calls, 'utf8').catch(() => '');

/** A logger that keeps its warnings. */
function warnings(): { log: Logger; lines: { event: string; fields: LogFields }[] } {
  const lines: { event: string; fields: LogFields }[] = [];
  const log: Logger = { debug: () => {}, info: () => {}, warn: (event, fields = {}) => void lines.push({ event, fields }), error: () => {}, child: () => log };
  return { log, lines };
}

test('edit distance counts a swap of neighbours as one edit', () => {
  expect(editDistance('debain', 'debian')).toBe(1);
  expect(editDistance('tiny', 'tiny')).toBe(0);
  expect(editDistance('tin', 'tiny')).toBe(1);
  expect(editDistance('', 'abc')).toBe(3);
  expect(editDistance('fedora-42', 'tiny')).toBeGreaterThan(4);
});

test('typos of built-in names find the built-in; other names find none', () => {
  expect(closestBuiltIn('debain-12-desktop')).toBe('debian-12-desktop');
  expect(closestBuiltIn('debian-12-destkop')).toBe('debian-12-desktop');
  expect(closestBuiltIn('debian-13-desktop')).toBe('debian-12-desktop');
  expect(closestBuiltIn('tin')).toBe('tiny');
  expect(closestBuiltIn('tiyn')).toBe('tiny');
  expect(closestBuiltIn('debian-12')).toBeUndefined();
  expect(closestBuiltIn('fedora-42')).toBeUndefined();
  expect(closestBuiltIn('ubuntu-12-desktop')).toBeUndefined();
});

test('what a name stands for: built-in, explicit or bare template, cached, or a UsageError', () => {
  expect(imageNameKind('tiny')).toBe('built-in');
  expect(imageNameKind('debian-12-desktop')).toBe('built-in');
  expect(imageNameKind('virt-builder:fedora-42')).toBe('virt-builder');
  expect(imageNameKind('virt-builder:my-own-template')).toBe('virt-builder');
  expect(imageNameKind('fedora-42')).toBe('virt-builder-bare');
  expect(imageNameKind('ubuntu-24.04')).toBe('virt-builder-bare');
  expect(imageNameKind('centosstream-9')).toBe('virt-builder-bare');
  expect(imageNameKind('my-image', (n) => n === 'my-image')).toBe('cached');
  // A typo of a built-in is refused even where it has a template's shape, or an image of that name is cached.
  expect(() => imageNameKind('debian-12-destkop')).toThrow(/did you mean 'debian-12-desktop'/);
  expect(() => imageNameKind('tiyn', () => true)).toThrow(/did you mean 'tiny'/);
  expect(() => imageNameKind('my-image')).toThrow(UsageError);
  expect(() => imageNameKind('virt-builder:tiny')).toThrow(/built-in image, not a virt-builder template/);
  expect(() => imageNameKind('virt-builder:Fedora')).toThrow(/Invalid image name/);
});

test("'debain-12-desktop' fails in under a second with a suggestion, and nothing is run", async () => {
  const saved = process.env.PATH;
  process.env.PATH = fakePath;
  try {
    const dir = path.join(tmp, 'images');
    const cache = new ImageCache({ dir });
    const started = performance.now();
    const err = await cache.ensure('debain-12-desktop').catch((e: unknown) => e);
    const ms = performance.now() - started;
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain("Unknown image 'debain-12-desktop': did you mean 'debian-12-desktop'?");
    expect((err as UsageError).hint).toContain('tiny, debian-12-desktop');
    expect((err as UsageError).hint).toContain('virt-builder:');
    expect(ms).toBeLessThan(1000);
    expect(await called()).toBe('');
    // Nothing was created either.
    await expect(fs.access(dir)).rejects.toThrow();
  } finally {
    process.env.PATH = saved;
  }
});

test('the CLI refuses the typo the same way, without running virt-builder, curl or anything else', async () => {
  const r = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'images', 'build', 'debain-12-desktop'], {
    reject: false,
    env: { PATH: fakePath, XDG_CACHE_HOME: path.join(tmp, 'xdg') },
  });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain("did you mean 'debian-12-desktop'?");
  expect(await called()).toBe('');
});

test('a bare template name still goes to virt-builder, with a deprecation warning naming the explicit form', async () => {
  const saved = process.env.PATH;
  process.env.PATH = fakePath;
  try {
    const { log, lines } = warnings();
    const cache = new ImageCache({ dir: path.join(tmp, 'bare'), log });
    await expect(cache.ensure('fedora-41')).rejects.toThrow(/virt-builder/);
    expect(lines.filter((l) => l.event.startsWith('deprecated'))).toEqual([
      { event: 'deprecated: a bare virt-builder template name', fields: { image: 'fedora-41', write: 'virt-builder:fedora-41' } },
    ]);
    expect(await called()).toMatch(/^virt-builder fedora-41 /m);
  } finally {
    process.env.PATH = saved;
    await fs.rm(calls, { force: true });
  }
});

test('the explicit form is cached under the template name', () => {
  const cache = new ImageCache({ dir: '/x/images' });
  expect(cache.pathFor('virt-builder:fedora-42')).toBe('/x/images/fedora-42.qcow2');
});
