import { test, expect } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DURATION_FIELDS,
  ENV_OVERRIDES,
  EXAMPLE_CONFIG,
  ExhibitConfigError,
  loadExhibitConfig,
  parseDuration,
  parseExhibitConfig,
  redactedConfig,
} from '../../src/exhibit/index.js';
import { scratchDir } from '../support/scratch-dir.js';

const FILE = '/etc/demotool/art.yaml';

/** The ExhibitConfigError that parsing `text` throws. */
async function failure(text: string, env: Record<string, string> = {}): Promise<ExhibitConfigError> {
  const e = await parseExhibitConfig(text, FILE, env).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ExhibitConfigError);
  const error = e as ExhibitConfigError;
  expect(error.code).toBe('EEXHIBITCONFIG');
  expect(error.name).toBe('ExhibitConfigError');
  return error;
}

test('durations: units are required in the file, digits are milliseconds only where allowed', () => {
  expect(parseDuration('15s')).toBe(15_000);
  expect(parseDuration('12m')).toBe(720_000);
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('1.5s')).toBe(1_500);
  expect(parseDuration('1h')).toBe(3_600_000);
  expect(parseDuration(' 2 s ')).toBe(2_000);
  expect(parseDuration('15000')).toEqual({ error: expect.stringContaining('write a number and a unit') });
  expect(parseDuration('15000', { bareMs: true })).toBe(15_000);
  for (const bad of ['12 minutes', '15sec', '-1s', 's', '', '1e3ms']) expect(parseDuration(bad)).toHaveProperty('error');
});

test('a good config resolves to the watchdog options vm.watchdog() would resolve, with defaults', async () => {
  const config = await parseExhibitConfig(
    [
      'vm:',
      '  image: debian-12-desktop',
      '  name: artwork-7',
      'resources: { cpus: 2, memoryMiB: 2048 }',
      'watchdog:',
      '  snapshot: shown',
      '  heartbeatTimeout: 15s',
      '  idleTimeout: 12m',
      '  grace: 500ms',
      '  escalation: { maxReverts: 3, windowMs: 1h, maxRestarts: 2 }',
      'transport: serial',
      'api: { host: 0.0.0.0, port: 9000, token: abcdefghijklmnopqrst }',
      'kiosk: { enabled: true, viewer: [remote-viewer, --kiosk] }',
      'onStart: keep-if-healthy',
      'onStop: shutdown',
    ].join('\n'),
    FILE,
  );
  expect(config).toEqual({
    file: FILE,
    vm: { image: 'debian-12-desktop', name: 'artwork-7' },
    resources: { cpus: 2, memoryMiB: 2048 },
    watchdog: {
      snapshot: 'shown',
      takeSnapshot: 'if-missing',
      heartbeatTimeout: 15_000,
      idleTimeout: 720_000,
      grace: 500,
      checkInterval: 500,
      autoRevert: true,
      revertMethod: 'in-place',
      escalation: { maxReverts: 3, windowMs: 3_600_000, maxRestarts: 2 },
      guestRequestInterval: 10_000,
      timeouts: { probeMs: 3_000, revertMs: 120_000, killMs: 30_000 },
      api: { host: '0.0.0.0', port: 9000, token: 'abcdefghijklmnopqrst' },
    },
    transport: 'serial',
    kiosk: { enabled: true, viewer: ['remote-viewer', '--kiosk'] },
    onStart: 'keep-if-healthy',
    onStop: 'shutdown',
  });
  expect(redactedConfig(config).watchdog.api).toEqual({ host: '0.0.0.0', port: 9000, token: '<redacted>' });
  expect(config.watchdog.api && config.watchdog.api.token).toBe('abcdefghijklmnopqrst');

  const minimal = await parseExhibitConfig('vm: { domain: art }\n', FILE);
  expect(minimal.vm).toEqual({ domain: 'art' });
  expect(minimal).toMatchObject({ transport: 'http', onStart: 'keep-if-healthy', onStop: 'leave-running', kiosk: { enabled: false } });
  expect(minimal.watchdog).toMatchObject({ snapshot: 'ready', heartbeatTimeout: 10_000, api: { host: '127.0.0.1', port: 8080 } });
});

test('a YAML syntax error names file:line:col', async () => {
  const e = await failure('vm:\n  domain: [art\nonStop: shutdown\n');
  expect(e.problems).toHaveLength(1);
  expect(e.problems[0]!.where).toBe(`${FILE}:3:1`);
  expect(e.message).toContain(`${FILE}:3:1: YAML syntax:`);
  const dup = await failure('vm: { domain: art }\nonStop: shutdown\nonStop: leave-running\n');
  expect(dup.message).toMatch(new RegExp(`${FILE}:3:1: YAML syntax: .*unique`));
});

test('an unknown key is named where it is written, with a did-you-mean and the known keys', async () => {
  const e = await failure('vm: { domain: art }\nwatchdog:\n  snapshot: ready\n  heartbeatTimout: 15s\nkoisk: {}\n');
  expect(e.problems.map((p) => `${p.where} ${p.field}`)).toEqual([`${FILE}:4:3 watchdog.heartbeatTimout`, `${FILE}:5:1 koisk`]);
  expect(e.problems[0]!.reason).toContain('did you mean "heartbeatTimeout"?');
  expect(e.problems[0]!.reason).toContain('known keys: snapshot, takeSnapshot, heartbeatTimeout, idleTimeout, grace');
  expect(e.problems[1]!.reason).toContain('did you mean "kiosk"?');
  expect(e.message).toContain(`${FILE}:4:3: watchdog.heartbeatTimout: unknown key "heartbeatTimout"`);
});

test('a wrong type, a bad duration and both domain and image: all listed, each with line, column and field', async () => {
  const e = await failure(
    ['vm:', '  domain: art', '  image: debian-12-desktop', 'watchdog:', '  idleTimeout: 12 minutes', '  autoRevert: "no"', 'api:', '  port: 70000'].join('\n'),
  );
  const lines = e.problems.map((p) => `${p.where} ${p.field}`);
  expect(lines).toEqual(
    expect.arrayContaining([`${FILE}:3:3 vm.image`, `${FILE}:5:3 watchdog.idleTimeout`, `${FILE}:6:3 watchdog.autoRevert`, `${FILE}:8:3 api.port`]),
  );
  expect(e.problems).toHaveLength(4);
  const reason = (field: string) => e.problems.find((p) => p.field === field)!.reason;
  expect(reason('vm.image')).toContain('not both');
  expect(reason('watchdog.idleTimeout')).toContain('"12 minutes" is not a duration');
  expect(reason('watchdog.autoRevert')).toContain('expected boolean');
  expect(reason('api.port')).toContain('65535');
});

test('missing vm, a name beside a domain, a bare-number duration string and the watchdog rules are refused', async () => {
  expect((await failure('onStop: shutdown\n')).problems).toEqual([
    { where: `${FILE}:1:1`, field: 'vm', reason: expect.stringContaining('missing (required)') },
  ]);
  expect((await failure('vm: { domain: a, name: b }\n')).problems[0]).toMatchObject({ where: `${FILE}:1:18`, field: 'vm.name' });
  expect((await failure('vm: { domain: a }\nwatchdog: { grace: "5000" }\n')).problems[0]).toMatchObject({ where: `${FILE}:2:13`, field: 'watchdog.grace' });
  // The watchdog's own limits: checkInterval at most 500 ms; the API beyond loopback only with a token.
  expect((await failure('vm: { domain: a }\nwatchdog:\n  checkInterval: 2s\n')).problems[0]).toMatchObject({
    where: `${FILE}:3:3`,
    field: 'watchdog.checkInterval',
  });
  const open = await failure('vm: { domain: a }\napi:\n  host: 0.0.0.0\n');
  expect(open.problems[0]).toMatchObject({ where: `${FILE}:3:3`, field: 'api.host', reason: expect.stringContaining('only with a token') });
  expect((await failure('vm: { domain: a }\napi: { token: short }\n')).problems[0]).toMatchObject({ field: 'api.token' });
  expect((await failure('- just\n- a list\n')).problems[0]!.reason).toContain('mapping');
  // The API's own rules are checked beside the other problems, not after them.
  const both = await failure('vm: { domain: a, image: b }\napi:\n  host: 0.0.0.0\n');
  expect(both.problems.map((p) => `${p.where} ${p.field}`)).toEqual([`${FILE}:1:18 vm.image`, `${FILE}:3:3 api.host`]);
});

test('vm.hardware: a profile or single devices for a VM defined from an image; refused beside a domain, or unknown', async () => {
  expect((await parseExhibitConfig('vm: { image: tiny, hardware: legacy-windows }\n', FILE, {})).vm).toEqual({
    image: 'tiny',
    hardware: { profile: 'legacy-windows' },
  });
  const devices = await parseExhibitConfig('vm:\n  image: tiny\n  hardware: { profile: legacy-windows, nic: rtl8139 }\n', FILE, {});
  expect(devices.vm).toEqual({ image: 'tiny', hardware: { profile: 'legacy-windows', nic: 'rtl8139' } });
  expect((await failure('vm: { domain: a, hardware: uefi }\n')).problems[0]).toMatchObject({ where: `${FILE}:1:18`, field: 'vm.hardware' });
  expect((await failure('vm: { image: tiny, hardware: windows-98 }\n')).problems[0]).toMatchObject({ field: 'vm.hardware.profile' });
  expect((await failure('vm: { image: tiny, hardware: { nic: ne2000 } }\n')).problems[0]).toMatchObject({ field: 'vm.hardware.nic' });
});

test('environment variables beat the file; a bad one names the variable', async () => {
  const text = 'vm: { image: debian-12-desktop, name: art }\nwatchdog: { snapshot: ready, heartbeatTimeout: 15s }\napi: { port: 8080 }\n';
  const config = await parseExhibitConfig(text, FILE, {
    DEMOTOOL_EXHIBIT_API_PORT: '9191',
    DEMOTOOL_EXHIBIT_SNAPSHOT: 'shown',
    DEMOTOOL_EXHIBIT_HEARTBEAT_TIMEOUT: '30s',
    DEMOTOOL_EXHIBIT_IDLE_TIMEOUT: '60000',
    DEMOTOOL_EXHIBIT_AUTO_REVERT: 'false',
    DEMOTOOL_EXHIBIT_VM_DOMAIN: 'artwork-3',
    DEMOTOOL_EXHIBIT_API_TOKEN: 'from-the-environment-1234',
    DEMOTOOL_EXHIBIT_ON_STOP: '',
  });
  expect(config.vm).toEqual({ domain: 'artwork-3' });
  expect(config.watchdog).toMatchObject({
    snapshot: 'shown',
    heartbeatTimeout: 30_000,
    idleTimeout: 60_000,
    autoRevert: false,
    api: { port: 9191, token: 'from-the-environment-1234' },
  });
  expect(config.onStop).toBe('leave-running');

  const e = await failure(text, { DEMOTOOL_EXHIBIT_API_PORT: 'eighty', DEMOTOOL_EXHIBIT_GRACE: 'soon', DEMOTOOL_EXHIBIT_TRANSPORT: 'carrier-pigeon' });
  expect(e.problems.map((p) => `${p.where} ${p.field}`).sort()).toEqual([
    'environment variable DEMOTOOL_EXHIBIT_API_PORT api.port',
    'environment variable DEMOTOOL_EXHIBIT_GRACE watchdog.grace',
    'environment variable DEMOTOOL_EXHIBIT_TRANSPORT transport',
  ]);
  expect(e.message).toContain('environment variable DEMOTOOL_EXHIBIT_API_PORT: api.port: "eighty" is not a whole number');
});

test('the env table: one systematic name per field, every duration field a known one', () => {
  for (const o of ENV_OVERRIDES) {
    const snake = o.field
      .replace(/^watchdog\./, '')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .replace(/\./g, '_')
      .toUpperCase();
    expect(o.variable).toBe(`DEMOTOOL_EXHIBIT_${snake}`);
    if (o.kind === 'duration') expect(DURATION_FIELDS).toContain(o.field);
  }
  expect(new Set(ENV_OVERRIDES.map((o) => o.variable)).size).toBe(ENV_OVERRIDES.length);
});

test('tokenFile: read next to the config, kept out of it; a missing one is named', async () => {
  const dir = scratchDir('exhibit-config');
  writeFileSync(path.join(dir, 'art.token'), 'token-from-a-file-0123\n', { mode: 0o600 });
  const file = path.join(dir, 'exhibit.yaml');
  writeFileSync(file, 'vm: { domain: art }\napi:\n  host: 0.0.0.0\n  tokenFile: art.token\n');
  const config = await loadExhibitConfig(file, {});
  expect(config.watchdog.api).toEqual({ host: '0.0.0.0', port: 8080, token: 'token-from-a-file-0123' });

  writeFileSync(file, 'vm: { domain: art }\napi:\n  tokenFile: missing.token\n');
  const e = await loadExhibitConfig(file, {}).catch((err: unknown) => err as ExhibitConfigError);
  expect(e).toBeInstanceOf(ExhibitConfigError);
  expect((e as ExhibitConfigError).problems[0]).toMatchObject({
    where: `${file}:3:3`,
    field: 'api.tokenFile',
    reason: expect.stringContaining('cannot read the token'),
  });

  writeFileSync(file, 'vm: { domain: art }\napi: { token: abcdefghijklmnopqrst, tokenFile: art.token }\n');
  expect(((await loadExhibitConfig(file, {}).catch((err: unknown) => err)) as ExhibitConfigError).problems[0]).toMatchObject({ field: 'api.tokenFile' });
  const unreadable = (await loadExhibitConfig(path.join(dir, 'nope.yaml'), {}).catch((err: unknown) => err)) as ExhibitConfigError;
  expect(unreadable.message).toContain('cannot read it');
});

test('the example config is the repository copy, and it is valid', async () => {
  expect(readFileSync('examples/exhibit/exhibit.yaml', 'utf8')).toBe(EXAMPLE_CONFIG);
  const config = await parseExhibitConfig(EXAMPLE_CONFIG, 'exhibit.yaml');
  expect(config.watchdog).toMatchObject({ heartbeatTimeout: 15_000, idleTimeout: 720_000, grace: 5_000 });
});

test("the README's env table is the code's", () => {
  const readme = readFileSync('README.md', 'utf8');
  const rows = [...readme.matchAll(/^\| `(DEMOTOOL_EXHIBIT_\w+)` \| `([\w.]+)`/gm)].map((m) => `${m[1]} ${m[2]}`);
  expect(rows).toEqual(ENV_OVERRIDES.map((o) => `${o.variable} ${o.field}`));
});
