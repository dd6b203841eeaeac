import { test, expect } from '@playwright/test';
import { UsageError } from '../../src/errors.js';
import { parseOptions, z } from '../../src/option-schema.js';

const schema = z.strictObject({
  fps: z.number().int().min(1).max(60).default(30),
  api: z.union([z.literal(false), z.strictObject({ port: z.number().int().default(0), token: z.string().optional() })]).default({ port: 0 }),
});

test('undefined gives the defaults; null and non-objects are refused', () => {
  expect(parseOptions(schema, undefined, 'record')).toEqual({ fps: 30, api: { port: 0 } });
  expect(() => parseOptions(schema, null, 'record')).toThrow(UsageError);
  expect(() => parseOptions(schema, 'fast', 'record')).toThrow(/^record options: /);
});

test('every bad option is named with its path, unknown keys with the known ones as a hint', () => {
  let error: unknown;
  try {
    parseOptions(schema, { fps: '30', api: { tokne: 'x' }, colour: 1 }, 'record');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  const { message, hint, code } = error as UsageError;
  expect(code).toBe('EUSAGE');
  expect(message).toContain('record option fps: ');
  expect(message).toContain('unknown record option "api.tokne"');
  expect(message).toContain('unknown record option "colour"');
  expect(hint).toContain('known api options: port, token');
  expect(hint).toContain('known options: fps, api');
});

test('valid values pass through the schema’s transforms', () => {
  expect(parseOptions(schema, { fps: 25, api: false }, 'record')).toEqual({ fps: 25, api: false });
});
