import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { DemoSession, UsageError, type VmOptions } from '../../src/index.js';
import { MAX_TIMER_MS, resolveTimeout, timer } from '../../src/timeouts.js';
import { movePlan } from '../../src/vnc/path.js';
import { clipRegion } from '../../src/vnc/region.js';
import { domainXml } from '../../src/libvirt/domain-xml.js';
import { scratchDir } from '../support/scratch-dir.js';
import { domainSpec } from '../support/domain-spec.js';

// Quiet in this worker only: a top-level env change would run in Playwright's runner while it
// collects tests, and reach every worker and child process after it.
test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

/** A `virsh` (and qemu-img) on PATH that only writes down that it was called. */
function fakeTools(): { log: string; restore: () => void } {
  const dir = scratchDir('fake-virsh');
  const log = join(dir, 'calls.log');
  for (const tool of ['virsh', 'qemu-img', 'qemu-system-x86_64']) {
    writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexit 1\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  const old = process.env.PATH;
  process.env.PATH = `${dir}:${old}`;
  return { log, restore: () => (process.env.PATH = old) };
}

const BAD: [string, unknown][] = [
  ['network none', { network: 'none' }],
  ['network Closed', { network: 'Closed' }],
  ['network false', { network: false }],
  ['video', { video: 'cirrus' }],
  ['accel', { accel: 'hvf' }],
  ['unknown key', { netwrok: 'open' }],
  ['cpus 0', { resources: { cpus: 0 } }],
  ['cpus string', { resources: { cpus: '2' } }],
  ['memory NaN', { resources: { memoryMiB: NaN } }],
  ['resources typo', { resources: { memory: 1024 } }],
  ['ready strategy', { ready: { strategy: 'soon' } }],
  ['settle negative', { ready: { settleMs: -1 } }],
  ['bootTimeout string', { bootTimeout: '120' }],
  ['bootTimeout negative', { bootTimeout: -5 }],
  ['bootTimeout NaN', { bootTimeout: NaN }],
  ['guestApi address', { guestApi: { address: '192.168.122', port: 8000 } }],
  ['guestApi port', { guestApi: { address: '192.168.122.1', port: 70000 } }],
  ['guestMonitors transport', { guestMonitors: { transport: 'usb' } }],
  ['guestMonitors http on an open network', { network: 'open', guestMonitors: { transport: 'http' } }],
  ['guestMonitors process name', { guestMonitors: { transport: 'serial', processes: ['a;reboot'] } }],
];

for (const [name, options] of BAD) {
  test(`bad VM option (${name}): UsageError before any virsh or qemu call`, async () => {
    const fake = fakeTools();
    try {
      const demo = new DemoSession('bad-options', { outputDir: scratchDir('demo-out') });
      const error = await demo.vm('tiny', options as VmOptions).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.code).toBe('EUSAGE');
      expect(existsSync(fake.log) ? readFileSync(fake.log, 'utf8') : '').toBe('');
      await demo.close();
    } finally {
      fake.restore();
    }
  });
}

test('one rule for timeouts: ms ≥ 0; 0, Infinity and ≥ 2^31 mean no limit; the rest is refused', () => {
  const table: [unknown, number | 'throws'][] = [
    [undefined, 1234],
    [0, Infinity],
    [Infinity, Infinity],
    [2 ** 31, Infinity],
    [MAX_TIMER_MS, Infinity],
    [1, 1],
    [5000, 5000],
    [-1, 'throws'],
    [NaN, 'throws'],
    ['5000', 'throws'],
    [null, 'throws'],
    [-Infinity, 'throws'],
  ];
  for (const [value, want] of table) {
    if (want === 'throws') expect(() => resolveTimeout('t', value, 1234), String(value)).toThrow(UsageError);
    else expect(resolveTimeout('t', value, 1234), String(value)).toBe(want);
  }
});

test('a timer for no limit is never armed (Node would fire a 2^31 ms timer after 1 ms)', async () => {
  let fired = 0;
  expect(timer(() => fired++, Infinity)).toBeUndefined();
  expect(timer(() => fired++, 2 ** 31)).toBeUndefined();
  const t = timer(() => fired++, 5);
  expect(t).toBeDefined();
  await new Promise((r) => setTimeout(r, 40));
  expect(fired).toBe(1);
});

test('mouse steps and duration, and regions, are checked', () => {
  expect(() => movePlan({ steps: 0 })).toThrow(UsageError);
  expect(() => movePlan({ steps: 2.5 })).toThrow(UsageError);
  expect(() => movePlan({ duration: NaN })).toThrow(UsageError);
  expect(() => movePlan({ duration: '100' as unknown as number })).toThrow(UsageError);
  expect(movePlan({ steps: 3 }).steps).toBe(3);
  const screen = { width: 100, height: 100 };
  expect(() => clipRegion({ x: '10' as unknown as number, y: 0, width: 10, height: 10 }, screen)).toThrow(/region.x must be a number/);
  expect(() => clipRegion({ x: 0, y: 0, width: NaN, height: 10 }, screen)).toThrow(UsageError);
  expect(clipRegion({ x: 10, y: 10, width: 10, height: 10 }, screen)).toEqual({ x: 10, y: 10, width: 10, height: 10 });
});

test('the network fails closed: only exactly "open" opens it', () => {
  const spec = domainSpec('x');
  for (const network of ['none', 'Closed', false, undefined, 'closed']) expect(domainXml({ ...spec, network: network as 'closed' })).toContain('restrict=on');
  expect(domainXml({ ...spec, network: 'open' })).not.toContain('restrict=on');
});

test('two open demos never share a directory; names that fold together are refused, not merged', async () => {
  const out = scratchDir('demo-out');
  const first = new DemoSession('A B', { outputDir: out });
  expect(() => new DemoSession('a-b', { outputDir: out })).toThrow(/which the open demo "A B" is using/);
  await first.close();
  const again = new DemoSession('a-b', { outputDir: out });
  await again.close();
});

test('demo options are checked before anything happens: a typo, a wrong type or a non-cache is named', () => {
  const out = scratchDir('demo-out');
  expect(() => new DemoSession('typo', { outputDir: out, artifactDir: out } as never)).toThrow(/unknown demo option "artifactDir"/);
  expect(() => new DemoSession('typo', { outputDir: out, joinSections: 'no' } as never)).toThrow(/demo option joinSections: /);
  expect(() => new DemoSession('typo', { outputDir: out, imageCache: {} } as never)).toThrow(/demo option imageCache: must be an ImageCache/);
  // A refused session holds no directory: the same name opens fine afterwards.
  const ok = new DemoSession('typo', { outputDir: out });
  void ok.close();
});
