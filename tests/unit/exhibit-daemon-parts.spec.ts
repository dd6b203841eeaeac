/** The exhibit daemon's pure parts: its VM's name, what a reload may change, the exhibit mark, the screen through libvirt. */
import { test, expect } from '@playwright/test';
import { PNG } from 'pngjs';
import { ppmToPng } from '../../src/api/domain-screenshot.js';
import { parseExhibitConfig } from '../../src/exhibit/config.js';
import { planReload } from '../../src/exhibit/reload-plan.js';
import { exhibitVmName } from '../../src/exhibit/vm-name.js';
import { domainXml } from '../../src/libvirt/domain-xml.js';
import { readDomainXml } from '../../src/libvirt/owner.js';
import { domainSpec } from '../support/domain-spec.js';

const BASE = `vm:
  image: tiny
watchdog:
  heartbeatTimeout: 10s
`;
const parse = (text: string, file = '/etc/demotool/exhibit/artwork.yaml') => parseExhibitConfig(text, file);

test("the VM's name: vm.name, vm.domain, else exhibit- and the config file's name", async () => {
  expect(exhibitVmName(await parse(BASE, '/etc/demotool/exhibit/Nam June Paik.yaml'))).toBe('exhibit-nam-june-paik');
  expect(exhibitVmName(await parse(`${BASE.replace('image: tiny', 'image: tiny\n  name: tv-garden')}`))).toBe('tv-garden');
  expect(exhibitVmName(await parse('vm:\n  domain: winxp-artwork\n'))).toBe('winxp-artwork');
  expect(exhibitVmName(await parse(BASE, '/x/---.yml'))).toBe('exhibit-artwork');
});

test('a VM name that libvirt or a socket path could not take is refused in the config, with its line', async () => {
  await expect(parse('vm:\n  image: tiny\n  name: "../evil name"\n')).rejects.toThrow(/artwork\.yaml:3:\d+: vm\.name: a VM name/);
});

test('a reload: watchdog and kiosk changes are taken; another VM, its resources or transport need a restart', async () => {
  const running = await parse(BASE);
  expect(planReload(running, await parse(BASE))).toEqual({ watchdog: false, kiosk: false, unchanged: true });
  expect(planReload(running, await parse(BASE.replace('10s', '20s')))).toEqual({ watchdog: true, kiosk: false, unchanged: false });
  expect(planReload(running, await parse(`${BASE}kiosk:\n  enabled: true\n`))).toMatchObject({ kiosk: true, watchdog: false });
  expect(planReload(running, await parse(`${BASE}onStop: shutdown\n`))).toEqual({ watchdog: false, kiosk: false, unchanged: false });
  expect(planReload(running, await parse(BASE.replace('image: tiny', 'image: debian-12-desktop'))).refused).toMatch(/^vm changed: that takes a restart/);
  expect(planReload(running, await parse(`${BASE}transport: serial\nresources:\n  cpus: 1\n`)).refused).toMatch(/^resources, transport changed/);
});

test("the exhibit mark in the domain's metadata reads back; it is not an owner process", () => {
  const xml = domainXml(
    domainSpec('exhibit-artwork', { owner: { exhibit: "/etc/demotool/exhibit/Nam June's <tv>.yaml", image: 'tiny' } }, '/var/cache/demotool/exhibit'),
  );
  // libvirt writes it back with double quotes.
  const back = readDomainXml(xml.replace(/='([^']*)'/g, (_, v: string) => `="${v.replace(/&apos;/g, "'")}"`));
  expect(back).toMatchObject({ name: 'exhibit-artwork', exhibit: "/etc/demotool/exhibit/Nam June's <tv>.yaml" });
  expect(back.owner).toBeUndefined();
  expect(readDomainXml('<domain><name>plain</name></domain>').exhibit).toBeUndefined();
});

test('a P6 screenshot from libvirt becomes a PNG with the same pixels; a cut-off one is an error', () => {
  const header = Buffer.from('P6\n# from QEMU\n2 1\n255\n');
  const png = PNG.sync.read(ppmToPng(Buffer.concat([header, Buffer.from([255, 0, 0, 0, 0, 255])])));
  expect([png.width, png.height]).toEqual([2, 1]);
  expect([...png.data]).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
  expect(() => ppmToPng(Buffer.concat([header, Buffer.from([1, 2, 3])]))).toThrow(/cut short/);
  expect(() => ppmToPng(Buffer.from('P3\n1 1\n255\n0 0 0\n'))).toThrow(/not a P6/);
});
