import { test, expect } from '@playwright/test';
import { planEnsure } from '../../src/images/cache.js';

const ok = { ok: true } as const;
const corrupt = { ok: false, reason: 'qemu-img check exit 2' } as const;
const outdated = { ok: false, reason: 'built by recipe 1', outdated: true } as const;

test('nothing cached → build', () => {
  expect(planEnsure({ exists: false, validation: { ok: false, reason: 'missing' } })).toBe('build');
});

test('valid → reuse, unless a rebuild is asked for (then the old one is kept until the new one is ready)', () => {
  expect(planEnsure({ exists: true, validation: ok })).toBe('reuse');
  expect(planEnsure({ exists: true, validation: ok }, true)).toBe('build-keep-old');
});

test('corrupt → delete it and build', () => {
  expect(planEnsure({ exists: true, validation: corrupt })).toBe('delete-and-build');
  expect(planEnsure({ exists: true, validation: corrupt }, true)).toBe('delete-and-build');
});

test('sound but made by an older recipe → build, keeping the old one as a fallback', () => {
  expect(planEnsure({ exists: true, validation: outdated })).toBe('build-keep-old');
});
