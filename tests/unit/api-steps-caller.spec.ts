import { test, expect } from '@playwright/test';
import { pointAtCaller } from '../../src/api/steps.js';
import { TimeoutError } from '../../src/errors.js';

const site = { file: '/p/tests/demo.spec.ts', line: 12, column: 7 };

test("a demotool error gets the script's line above its own frames, once; its message and hint stay first", () => {
  const error = new TimeoutError('text /x/ on screen', 1000, { hint: 'last text read: ""' });
  const frames = error.stack!.split('\n').filter((l) => l.startsWith('    at '));
  pointAtCaller(error, site);
  const lines = error.stack!.split('\n');
  expect(lines.slice(0, 2)).toEqual(['TimeoutError: text /x/ on screen did not happen within 1000 ms', '  → last text read: ""']);
  expect(lines[2]).toBe('    at /p/tests/demo.spec.ts:12:7');
  expect(lines.slice(3)).toEqual(frames);
  pointAtCaller(error, site);
  expect(error.stack!.split('\n').filter((l) => l.includes('demo.spec.ts'))).toHaveLength(1);
});

test('errors not of demotool, and calls without a known line, are left alone', () => {
  const plain = new Error('boom');
  const before = plain.stack;
  expect(pointAtCaller(plain, site)).toBe(plain);
  expect(plain.stack).toBe(before);
  const ours = new TimeoutError('w', 1);
  const stack = ours.stack;
  pointAtCaller(ours, undefined);
  expect(ours.stack).toBe(stack);
  expect(pointAtCaller('a string', site)).toBe('a string');
});
