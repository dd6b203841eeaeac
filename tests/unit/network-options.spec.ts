import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkVmOptions } from '../../src/api/vm-options.js';
import { ExhibitConfigError, parseExhibitConfig } from '../../src/exhibit/index.js';
import { planReload } from '../../src/exhibit/reload-plan.js';
import { scratchDir } from '../support/scratch-dir.js';

// Network services as a VM option and in an exhibit config: checked before anything starts.
const dir = scratchDir('network-options');
const warc = path.join(dir, 'site.warc');
writeFileSync(warc, '');
mkdirSync(path.join(dir, 'mirror'));

test.describe('VM option services', () => {
  test('a good map passes; installLocalCa is a boolean', () => {
    expect(() => checkVmOptions({ services: { 'old-artwork.example': { archive: warc } }, installLocalCa: true })).not.toThrow();
    expect(() => checkVmOptions({ installLocalCa: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });

  test('services need the closed network', () => {
    expect(() => checkVmOptions({ network: 'open', services: { 'a.example': { archive: warc } } })).toThrow(/closed network/);
  });

  test('a bad map is refused before anything happens: a missing file, an unknown kind, a bad hostname', () => {
    for (const services of [
      { 'a.example': { archive: path.join(dir, 'missing.warc') } },
      { 'a.example': { proxy: 'http://x' } },
      { 'Not A Host!': { mirror: path.join(dir, 'mirror') } },
    ])
      expect(() => checkVmOptions({ services } as never)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });

  test('the guest API may not take the services’ ports', () => {
    const services = { 'a.example': { archive: warc } };
    for (const port of [80, 443]) expect(() => checkVmOptions({ services, guestApi: { address: '192.168.122.1', port } })).toThrow(/services' port/);
  });
});

test.describe('exhibit config services', () => {
  const file = path.join(dir, 'art.yaml');
  const config = (services: string, vm = 'vm: { image: tiny }') => `${vm}\nservices:\n${services}\n`;

  test('relative paths are taken from the config file’s directory', async () => {
    const c = await parseExhibitConfig(config('  old-artwork.example: { archive: site.warc }\n  mirror.example: { mirror: mirror }'), file);
    expect(c.services).toEqual({ 'old-artwork.example': { archive: warc }, 'mirror.example': { mirror: path.join(dir, 'mirror') } });
  });

  test('a bad map, or services for an operator’s own domain, is a config error naming services', async () => {
    for (const text of [config('  a.example: { archive: missing.warc }'), config('  a.example: { archive: site.warc }', 'vm: { domain: art }')]) {
      const e = await parseExhibitConfig(text, file).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ExhibitConfigError);
      expect((e as ExhibitConfigError).problems.map((p) => p.field)).toContain('services');
    }
  });

  test('a reload that changes the services is refused (they start with the VM)', async () => {
    const running = await parseExhibitConfig(config('  a.example: { archive: site.warc }'), file);
    const next = await parseExhibitConfig(config('  b.example: { archive: site.warc }'), file);
    expect(planReload(running, next).refused).toMatch(/services/);
    expect(planReload(running, await parseExhibitConfig(config('  a.example: { archive: site.warc }'), file)).refused).toBeUndefined();
  });
});
