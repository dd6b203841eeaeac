import { test, expect } from '@playwright/test';
import { TimeoutError, UsageError } from '../../src/errors.js';
import { KeyNameError, ScreenMatchTimeoutError, VncConnectError, VncError, parseKeyCombo } from '../../src/vnc/index.js';

test('a screen match that runs out of time is a TimeoutError with code ETIMEOUT, naming the best match', () => {
  const e = new ScreenMatchTimeoutError('reference login (120x40)', 2000, {
    bestSimilarity: 0.8123,
    threshold: 0.95,
    bestAt: { x: 10, y: 20 },
    actualPath: '/a/login-actual.png',
    hint: 'see /a/login-actual.png',
  });
  expect(e).toBeInstanceOf(TimeoutError);
  expect(e.name).toBe('ScreenMatchTimeoutError');
  expect(e.code).toBe('ETIMEOUT');
  expect(e.message).toBe(
    'reference login (120x40) did not appear on screen within 2000 ms: best similarity 0.812 at 10,20, needed 0.95\n  → see /a/login-actual.png',
  );
  expect({ best: e.bestSimilarity, at: e.bestAt, threshold: e.threshold }).toEqual({ best: 0.8123, at: { x: 10, y: 20 }, threshold: 0.95 });
  const never = new ScreenMatchTimeoutError('reference big (9000x9000)', 100, { bestSimilarity: 0, threshold: 0.95 });
  expect(never.message).toMatch(/best similarity none \(the reference is larger than the screen or search region\)/);
});

test('a bad key name is a UsageError with its own code', () => {
  const e = (() => {
    try {
      parseKeyCombo('Control+Nope');
    } catch (err) {
      return err;
    }
  })();
  expect(e).toBeInstanceOf(KeyNameError);
  expect(e).toBeInstanceOf(UsageError);
  expect((e as KeyNameError).code).toBe('EKEYNAME');
  expect((e as KeyNameError).name).toBe('KeyNameError');
});

test('connection failures are VncErrors', () => {
  const e = new VncConnectError('no server');
  expect(e).toBeInstanceOf(VncError);
  expect(e.code).toBe('EVNCCONNECT');
});
