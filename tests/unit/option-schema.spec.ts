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

test('a mistyped key or enum value gets the nearest known one; a refused (never) key is not listed as known', () => {
  const s = z.strictObject({
    format: z.enum(['mp4', 'webm', 'gif']).optional(),
    api: z.strictObject({ token: z.string() }).optional(),
    legacy: z.never({ error: 'gone: use format' }).optional(),
  });
  let error: unknown;
  try {
    parseOptions(s, { fromat: 'mp4', api: { tokne: 'x' } }, 'record');
  } catch (e) {
    error = e;
  }
  const { message, hint } = error as UsageError;
  expect(message).toContain('unknown record option "fromat" (did you mean "format"?)');
  expect(message).toContain('unknown record option "api.tokne" (did you mean "api.token"?)');
  expect(hint).toContain('known options: format, api');
  expect(hint).not.toContain('legacy');
  expect(() => parseOptions(s, { format: 'wbem' }, 'record')).toThrow(
    'record option format: Invalid option: expected one of "mp4"|"webm"|"gif" (did you mean "webm"?)',
  );
  // No guess when nothing is close, or the value is not a string.
  expect(() => parseOptions(s, { format: 'avi' }, 'record')).toThrow(/expected one of "mp4"\|"webm"\|"gif"$/m);
  expect(() => parseOptions(s, { format: 4 }, 'record')).toThrow(/expected one of "mp4"\|"webm"\|"gif"$/m);
  expect(() => parseOptions(s, { legacy: 1 }, 'record')).toThrow('record option legacy: gone: use format');
});
