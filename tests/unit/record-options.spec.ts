/**
 * Every record option is checked in one place before anything starts: a bad value is a
 * UsageError, no directory is created, no lock is taken, no ffmpeg is spawned.
 */
import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { UsageError } from '../../src/errors.js';
import { Recorder, recordSection, resolveRecordOptions, validateRecordOptions, type FrameSource, type RecordOptions } from '../../src/record/index.js';

const source = {
  frame: () => ({ width: 2, height: 2, rgba: Buffer.alloc(16) }),
  version: 0,
  pointer: { x: 0, y: 0 },
  connected: true,
} satisfies FrameSource;

const bad: [string, unknown][] = [
  ['minFreeBytes NaN (turned the disk check off)', { minFreeBytes: NaN }],
  ['minFreeBytes Infinity', { minFreeBytes: Infinity }],
  ['minFreeBytes negative', { minFreeBytes: -1 }],
  ['minFreeBytes string', { minFreeBytes: '1G' }],
  ['fps NaN', { fps: NaN }],
  ['fps Infinity', { fps: Infinity }],
  ['fps 0', { fps: 0 }],
  ['fps 121', { fps: 121 }],
  ['fps string', { fps: '30' }],
  ['format unknown', { format: 'avi' }],
  ['format wrong case', { format: 'MP4' }],
  ['format null', { format: null }],
  ['fps null', { fps: null }],
  ['minFreeBytes null', { minFreeBytes: null }],
  ['bitrate and crf', { bitrate: '2M', crf: 20 }],
  ['bitrate word', { bitrate: 'fast' }],
  ['bitrate NaN', { bitrate: NaN }],
  ['bitrate Infinity', { bitrate: Infinity }],
  ['bitrate 0', { bitrate: 0 }],
  ['bitrate negative', { bitrate: -2e6 }],
  ['bitrate fractional bits', { bitrate: 2e6 + 0.5 }],
  ['bitrate object', { bitrate: { v: 1 } }],
  ['crf too high', { crf: 99 }],
  ['crf NaN', { crf: NaN }],
  ['crf string', { crf: '23' }],
  ['crf fractional', { crf: 23.5 }],
  ['scale NaN', { scale: NaN }],
  ['scale Infinity', { scale: Infinity }],
  ['scale 0', { scale: 0 }],
  ['scale negative', { scale: -1 }],
  ['scale huge factor', { scale: 1000 }],
  ['scale string', { scale: '0.5' }],
  ['scale null', { scale: null }],
  ['scale box with NaN', { scale: { width: NaN, height: 200 } }],
  ['scale box with Infinity', { scale: { width: 300, height: Infinity } }],
  ['scale box with strings', { scale: { width: '300', height: '200' } }],
  ['scale box too small', { scale: { width: 1, height: 1 } }],
  ['scale box fractional', { scale: { width: 300.5, height: 200 } }],
  ['scale box missing height', { scale: { width: 300 } }],
  ['scale array', { scale: [300, 200] }],
  ['cursor string', { cursor: 'yes' }],
  ['keycast number', { keycast: 1 }],
  ['clickRings string', { clickRings: 'true' }],
  ['poster null', { poster: null }],
  ['unknown option (typo)', { minFreeByte: 0 }],
  ['options not an object', 'mp4'],
  ['options an array', []],
];

test.describe('record options are validated in one place', () => {
  for (const [what, options] of bad) {
    test(`${what} → UsageError`, async ({}, info) => {
      expect(() => resolveRecordOptions(options), what).toThrow(UsageError);
      expect(() => validateRecordOptions(options as RecordOptions)).toThrow(UsageError);
      expect(() => new Recorder(source, options as RecordOptions)).toThrow(UsageError);
      // recordSection refuses before any side effect: no directory, no body run.
      const dir = info.outputPath('never');
      let ran = false;
      const err = await recordSection(
        source,
        dir,
        's',
        async () => {
          ran = true;
        },
        options as RecordOptions,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('EUSAGE');
      expect(ran).toBe(false);
      expect(existsSync(dir)).toBe(false);
    });
  }

  test('good options pass, with their defaults', () => {
    expect(resolveRecordOptions(undefined)).toEqual({
      format: 'mp4',
      fps: 30,
      bitrate: undefined,
      crf: undefined,
      scale: undefined,
      cursor: true,
      minFreeBytes: 1024 ** 3,
      keycast: false,
      clickRings: false,
      poster: true,
    });
    expect(resolveRecordOptions({ format: 'gif' }).fps).toBe(10);
    expect(resolveRecordOptions({ minFreeBytes: 0 }).minFreeBytes).toBe(0);
    const ok: RecordOptions[] = [
      { fps: 29.97 },
      { fps: 120 },
      { bitrate: '800k' },
      { bitrate: '2.5M' },
      { bitrate: 2_000_000 },
      { crf: 0 },
      { format: 'webm', crf: 63 },
      { scale: 0.5 },
      { scale: { width: 300, height: 300 } },
      { cursor: false, keycast: true, clickRings: true, poster: false },
      { bitrate: '800k', fps: 60, format: 'webm', crf: undefined },
    ];
    for (const o of ok) expect(() => resolveRecordOptions(o), JSON.stringify(o)).not.toThrow();
  });
});
