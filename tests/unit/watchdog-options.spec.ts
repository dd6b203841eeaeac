import { test, expect } from '@playwright/test';
import { UsageError } from '../../src/errors.js';
import { resolveWatchdogOptions, type WatchdogOptions } from '../../src/watchdog/options.js';
import { DEFAULT_REVERT_TIMEOUTS } from '../../src/watchdog/reverter.js';
import { parseGuestLine, type GuestMessage } from '../../src/watchdog/guest-messages.js';

// Quiet in this worker only: a top-level env change would run in Playwright's runner while it
// collects tests, and reach every worker and child process after it.
test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

test.describe('resolveWatchdogOptions', () => {
  test('defaults', () => {
    expect(resolveWatchdogOptions()).toEqual({
      snapshot: 'ready',
      takeSnapshot: 'if-missing',
      heartbeatTimeout: 10_000,
      idleTimeout: 720_000,
      grace: 5_000,
      checkInterval: 500,
      autoRevert: true,
      revertMethod: 'in-place',
      escalation: { maxReverts: 5, windowMs: 600_000, maxRestarts: 3 },
      guestRequestInterval: 10_000,
      api: { host: '127.0.0.1', port: 0, token: undefined },
      timeouts: DEFAULT_REVERT_TIMEOUTS,
    });
    expect(resolveWatchdogOptions({})).toEqual(resolveWatchdogOptions());
  });

  test('given values are kept; 0 switches timers off; durations are rounded', () => {
    const o = resolveWatchdogOptions({
      snapshot: 'base-1.2_x',
      takeSnapshot: 'never',
      heartbeatTimeout: 0,
      idleTimeout: 0,
      grace: 1234.6,
      checkInterval: 100,
      autoRevert: false,
      revertMethod: 'snapshot-revert',
      escalation: { maxReverts: 2 },
      guestRequestInterval: 0,
      api: false,
      timeouts: { probeMs: 500 },
    });
    expect(o.snapshot).toBe('base-1.2_x');
    expect(o.takeSnapshot).toBe('never');
    expect(o.heartbeatTimeout).toBe(0);
    expect(o.idleTimeout).toBe(0);
    expect(o.grace).toBe(1235);
    expect(o.checkInterval).toBe(100);
    expect(o.autoRevert).toBe(false);
    expect(o.revertMethod).toBe('snapshot-revert');
    expect(o.escalation).toEqual({ maxReverts: 2, windowMs: 600_000, maxRestarts: 3 });
    expect(o.guestRequestInterval).toBe(0);
    expect(o.api).toBe(false);
    expect(o.timeouts).toEqual({ ...DEFAULT_REVERT_TIMEOUTS, probeMs: 500 });
  });

  test('the control API may listen anywhere with a token, and on any loopback without', () => {
    const token = 'abcdefghijklmnop';
    expect(resolveWatchdogOptions({ api: { host: '0.0.0.0', port: 8000, token } }).api).toEqual({ host: '0.0.0.0', port: 8000, token });
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
      expect(resolveWatchdogOptions({ api: { host } }).api).toEqual({ host, port: 0, token: undefined });
  });

  const bad: [string, unknown][] = [
    ['an unknown key', { heartbeatTimout: 1000 }],
    ['snapshot "--halt"', { snapshot: '--halt' }],
    ['snapshot "a b"', { snapshot: 'a b' }],
    ['snapshot ""', { snapshot: '' }],
    ['snapshot of 65 characters', { snapshot: 'a'.repeat(65) }],
    ['heartbeatTimeout -1', { heartbeatTimeout: -1 }],
    ['heartbeatTimeout NaN', { heartbeatTimeout: NaN }],
    ['heartbeatTimeout Infinity', { heartbeatTimeout: Infinity }],
    ['heartbeatTimeout "10"', { heartbeatTimeout: '10' }],
    ['heartbeatTimeout 2**31', { heartbeatTimeout: 2 ** 31 }],
    ['idleTimeout -5', { idleTimeout: -5 }],
    ['checkInterval 0', { checkInterval: 0 }],
    ['checkInterval 501', { checkInterval: 501 }],
    ['api host 0.0.0.0 without token', { api: { host: '0.0.0.0' } }],
    ['api host 192.168.1.5 without token', { api: { host: '192.168.1.5' } }],
    ['api token too short', { api: { token: 'short' } }],
    ['api token with a space', { api: { token: 'abcdefgh ijklmnop' } }],
    ['api port 70000', { api: { port: 70000 } }],
    ['api port -1', { api: { port: -1 } }],
    ['api port 80.5', { api: { port: 80.5 } }],
    ['api true', { api: true }],
    ['revertMethod "fast"', { revertMethod: 'fast' }],
    ['takeSnapshot "sometimes"', { takeSnapshot: 'sometimes' }],
    ['autoRevert "yes"', { autoRevert: 'yes' }],
    ['escalation.maxReverts 0', { escalation: { maxReverts: 0 } }],
    ['escalation.maxRestarts 1.5', { escalation: { maxRestarts: 1.5 } }],
    ['escalation.windowMs 0', { escalation: { windowMs: 0 } }],
    ['timeouts.revertMs 0', { timeouts: { revertMs: 0 } }],
    ['options null', null],
    ['an unknown escalation key', { escalation: { maxRevert: 2 } }],
    ['an unknown timeouts key', { timeouts: { probe: 100 } }],
    ['an unknown api key', { api: { prot: 8000 } }],
    ['escalation not an object', { escalation: 5 }],
    ['timeouts an array', { timeouts: [100] }],
  ];
  for (const [what, options] of bad) {
    test(`refuses ${what}`, () => {
      let error: unknown;
      try {
        resolveWatchdogOptions(options as WatchdogOptions);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe('EUSAGE');
    });
  }

  test('the messages name the option', () => {
    expect(() => resolveWatchdogOptions({ heartbeatTimout: 1 } as WatchdogOptions)).toThrow(/unknown watchdog option "heartbeatTimout"/);
    expect(() => resolveWatchdogOptions({ checkInterval: 501 })).toThrow(/checkInterval/);
    expect(() => resolveWatchdogOptions({ api: { host: '0.0.0.0' } })).toThrow(/only with a token/);
    expect(() => resolveWatchdogOptions({ snapshot: '--halt' })).toThrow(/invalid snapshot name "--halt"/);
    expect(() => resolveWatchdogOptions({ escalation: { maxRestart: 1 } } as WatchdogOptions)).toThrow(/unknown watchdog option "escalation.maxRestart"/);
    expect(() => resolveWatchdogOptions({ api: { tokne: 'abcdefghijklmnopq' } } as WatchdogOptions)).toThrow(/unknown watchdog option "api.tokne"/);
  });
});

test.describe('parseGuestLine', () => {
  const table: [string, GuestMessage | undefined][] = [
    ['HEARTBEAT', { kind: 'heartbeat' }],
    ['heartbeat', { kind: 'heartbeat' }],
    ['hb\r', { kind: 'heartbeat' }],
    ['  HB \0', { kind: 'heartbeat' }],
    ['REVERT process gone', { kind: 'revert-request', reason: 'process gone' }],
    ['revert   viewer.exe   is gone', { kind: 'revert-request', reason: 'viewer.exe is gone' }],
    ['REVERT', { kind: 'revert-request', reason: undefined }],
    ['REVERT-REQUEST error seen', { kind: 'revert-request', reason: 'error seen' }],
    ['IDLE-RESET 12', { kind: 'idle-reset', idleSeconds: 12 }],
    ['IDLE 2.5', { kind: 'idle-reset', idleSeconds: 2.5 }],
    ['idle-reset', { kind: 'idle-reset', idleSeconds: 0 }],
    ['IDLE-RESET -3', { kind: 'idle-reset', idleSeconds: 0 }],
    ['IDLE-RESET lots', { kind: 'idle-reset', idleSeconds: 0 }],
    ['IDLE-RESET Infinity', { kind: 'idle-reset', idleSeconds: 0 }],
    ['garbage', undefined],
    ['HEARTBEATS', undefined],
    ['[    1.234] Linux version 6.1', undefined],
    ['', undefined],
    ['   \r', undefined],
    ['HEARTBEAT ' + 'x'.repeat(590), undefined],
    ['REVERT ' + 'x'.repeat(593), undefined],
  ];
  for (const [line, expected] of table) {
    const label = line.length > 40 ? `${JSON.stringify(line.slice(0, 20))}… (${line.length} chars)` : JSON.stringify(line);
    test(`${label} → ${expected ? expected.kind : 'nothing'}`, () => {
      expect(parseGuestLine(line)).toEqual(expected);
    });
  }

  test('a 512-character line is still read, 513 is not', () => {
    const reason = 'r'.repeat(512 - 'REVERT '.length);
    expect(parseGuestLine(`REVERT ${reason}`)).toEqual({ kind: 'revert-request', reason });
    expect(parseGuestLine(`REVERT ${reason}x`)).toBeUndefined();
  });
});
