import { test, expect } from '@playwright/test';
import { domainXml, guestForward } from '../../src/libvirt/domain-xml.js';
import { domainSpec } from '../support/domain-spec.js';

const spec = domainSpec('demo-fwd', { memoryMiB: 64, vnc: { tcp: '127.0.0.1' } });
const good = { guestAddress: '10.0.2.100', guestPort: 80, hostAddress: '127.0.0.1', hostPort: 8000 };

test('a guest forward becomes one guestfwd rule on the closed network', () => {
  expect(guestForward(good)).toBe(',guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:8000');
  const xml = domainXml({ ...spec, guestForwards: [good] });
  expect(xml).toContain('user,id=dtnet0,restrict=on,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:8000');
});

// Each of these would have added an option to QEMU's comma-separated -netdev string (or broken a field).
const bad: [string, Record<string, unknown>][] = [
  ['a comma in an address opens the network', { guestAddress: '10.0.2.100,restrict=off' }],
  ['a comma in the host address', { hostAddress: '127.0.0.1,hostfwd=tcp::2222-:22' }],
  ['a port given as a string with options', { guestPort: '80,restrict=off' }],
  ['a host port with a dash', { hostPort: '8000-tcp:1.2.3.4:9' }],
  ['a host name, not an address', { hostAddress: 'localhost' }],
  ['an address out of range', { guestAddress: '10.0.2.256' }],
  ['port 0', { guestPort: 0 }],
  ['a port above 65535', { hostPort: 65536 }],
  ['a fractional port', { hostPort: 80.5 }],
  ['NaN', { guestPort: Number.NaN }],
  ['a missing address', { guestAddress: undefined }],
];

for (const [what, change] of bad) {
  test(`refused before it reaches QEMU: ${what}`, () => {
    const forward = { ...good, ...change } as typeof good;
    expect(() => guestForward(forward)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
    expect(() => domainXml({ ...spec, guestForwards: [forward] })).toThrow(/guestForwards/);
  });
}
