import { test, expect } from '@playwright/test';
import path from 'node:path';
import { ImageCache, builtInImageNames } from '../../src/images/index.js';
import { UsageError } from '../../src/errors.js';

test('built-in image names', () => {
  expect(builtInImageNames).toEqual(['tiny', 'debian-12-desktop']);
});

test('pathFor gives {name}.qcow2 in the cache dir', () => {
  const cache = new ImageCache({ dir: '/x/images' });
  expect(cache.pathFor('tiny')).toBe('/x/images/tiny.qcow2');
  expect(cache.pathFor('fedora-42')).toBe('/x/images/fedora-42.qcow2');
  expect(cache.pathFor('debian-12.5')).toBe('/x/images/debian-12.5.qcow2');
});

test('a relative dir is made absolute', () => {
  expect(new ImageCache({ dir: 'rel/images' }).dir).toBe(path.resolve('rel/images'));
});

for (const bad of ['', 'Fedora-42', '../etc', 'a/b', '.hidden', '-x', 'x..y', 'with space', 'tiny.qcow2/', 'é', 'a'.repeat(101)]) {
  test(`invalid name ${JSON.stringify(bad.slice(0, 20))} is a UsageError`, () => {
    const cache = new ImageCache({ dir: '/x' });
    let err: unknown;
    try {
      cache.pathFor(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('EUSAGE');
    expect((err as Error).message).toContain('Invalid image name');
    expect((err as UsageError).hint).toContain('tiny');
  });
}

test('ensure/validate/remove reject bad names before touching the disk', async () => {
  const cache = new ImageCache({ dir: '/nonexistent/should-not-be-created' });
  await expect(cache.ensure('../x')).rejects.toBeInstanceOf(UsageError);
  await expect(cache.validate('A')).rejects.toBeInstanceOf(UsageError);
  await expect(cache.remove('a/b')).rejects.toBeInstanceOf(UsageError);
});

test.describe('default dir', () => {
  const saved = process.env.XDG_CACHE_HOME;
  test.afterEach(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  });

  test('follows XDG_CACHE_HOME as set when the cache is constructed', () => {
    process.env.XDG_CACHE_HOME = '/tmp/xdg-a';
    const a = new ImageCache();
    process.env.XDG_CACHE_HOME = '/tmp/xdg-b';
    const b = new ImageCache();
    expect(a.dir).toBe('/tmp/xdg-a/demotool/images');
    expect(b.dir).toBe('/tmp/xdg-b/demotool/images');
    expect(b.pathFor('tiny')).toBe('/tmp/xdg-b/demotool/images/tiny.qcow2');
  });

  test('falls back to ~/.cache without XDG_CACHE_HOME', () => {
    delete process.env.XDG_CACHE_HOME;
    expect(new ImageCache().dir).toMatch(/\/\.cache\/demotool\/images$/);
  });
});
