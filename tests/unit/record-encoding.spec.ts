import { test, expect } from '@playwright/test';
import { codecOptions, concatList, outputGeometry, segmentArgs } from '../../src/record/encoding.js';
import { frameTicks, mkvFramePrefix, mkvHeader, MKV_TICKS_PER_SECOND } from '../../src/record/mkv.js';
import { Recorder } from '../../src/record/index.js';
import { UsageError } from '../../src/errors.js';
import type { FrameSource } from '../../src/frames.js';

test.describe('output geometry', () => {
  test('even sizes pass through untouched', () => {
    expect(outputGeometry(1280, 800, 'mp4')).toEqual({ width: 1280, height: 800, filters: [] });
  });

  test('odd sizes are padded to even for H.264 and VP9, not rejected', () => {
    expect(outputGeometry(721, 401, 'mp4')).toEqual({ width: 722, height: 402, filters: ['pad=722:402:0:0:color=black'] });
    expect(outputGeometry(720, 401, 'webm')).toEqual({ width: 720, height: 402, filters: ['pad=720:402:0:0:color=black'] });
  });

  test('gif keeps odd sizes (no chroma subsampling)', () => {
    expect(outputGeometry(721, 401, 'gif')).toEqual({ width: 721, height: 401, filters: [] });
  });

  test('scale factor, then even padding', () => {
    const g = outputGeometry(1280, 800, 'mp4', 0.5);
    expect(g).toEqual({ width: 640, height: 400, filters: ['scale=640:400:flags=lanczos'] });
    const odd = outputGeometry(1001, 801, 'mp4', 0.5);
    expect([odd.width, odd.height]).toEqual([502, 402]);
    expect(odd.filters[1]).toBe('pad=502:402:0:0:color=black');
  });

  test('scale box letterboxes to exactly that size', () => {
    const g = outputGeometry(1280, 800, 'mp4', { width: 640, height: 640 });
    expect([g.width, g.height]).toEqual([640, 640]);
    expect(g.filters.join(',')).toContain('force_original_aspect_ratio=decrease');
    expect(g.filters.join(',')).toContain('pad=640:640:(ow-iw)/2:(oh-ih)/2');
  });
});

test.describe('ffmpeg arguments', () => {
  const base = { fps: 30, width: 721, height: 401 };

  test('mp4: H.264 yuv420p at 2 Mbps; convert once, then the fps filter makes CFR', () => {
    const a = segmentArgs({ ...base, format: 'mp4' });
    const vf = a.outputOptions[a.outputOptions.indexOf('-vf') + 1];
    expect(vf).toBe('pad=722:402:0:0:color=black,format=yuv420p,fps=30');
    expect(a.outputOptions).toEqual(expect.arrayContaining(['libx264', 'yuv420p', '-b:v', '2M', '-flush_packets', '1']));
    expect(a.container).toBe('mpegts');
    expect(a.inputOptions).toEqual(['-probesize', '32', '-analyzeduration', '0']);
  });

  test('crf replaces the bitrate', () => {
    const o = codecOptions({ ...base, format: 'mp4', crf: 23 });
    expect(o).toEqual(expect.arrayContaining(['-crf', '23']));
    expect(o).not.toContain('-b:v');
    expect(codecOptions({ ...base, format: 'webm', crf: 30 })).toEqual(expect.arrayContaining(['-crf', '30', '-b:v', '0']));
    expect(codecOptions({ ...base, format: 'mp4', bitrate: 800_000 })).toEqual(expect.arrayContaining(['-b:v', '800000']));
  });

  test('webm: VP9 realtime into a webm segment; gif: lossless intermediate', () => {
    const w = segmentArgs({ ...base, format: 'webm' });
    expect(w.outputOptions).toEqual(expect.arrayContaining(['libvpx-vp9', '-deadline', 'realtime']));
    expect(w.container).toBe('webm');
    const g = segmentArgs({ ...base, format: 'gif', fps: 10 });
    expect(g.outputOptions).toEqual(expect.arrayContaining(['-qp', '0', 'yuv444p']));
    expect(g.outputOptions[g.outputOptions.indexOf('-vf') + 1]).toBe('format=yuv444p,fps=10');
  });

  test('concat list quotes paths and keeps true durations', () => {
    expect(concatList([{ path: "/v/it's.ts", durationSec: 1.5 }, { path: '/v/b.ts' }])).toBe("file '/v/it'\\''s.ts'\nduration 1.500000\nfile '/v/b.ts'\n");
  });
});

test.describe('Matroska frame stream', () => {
  test('frame timestamps are the slots, in 100 µs ticks', () => {
    expect(MKV_TICKS_PER_SECOND).toBe(10_000);
    expect(frameTicks(0, 30)).toBe(0);
    expect(frameTicks(1, 30)).toBe(333);
    expect(frameTicks(30, 30)).toBe(10_000);
    expect(frameTicks(45, 30)).toBe(15_000);
  });

  test('header declares raw RGBA of the given size and one-slot default duration', () => {
    const h = mkvHeader(721, 401, 30);
    expect(h.includes(Buffer.from('V_UNCOMPRESSED'))).toBe(true);
    expect(h.includes(Buffer.from('RGBA'))).toBe(true);
    expect(h.subarray(0, 4)).toEqual(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
    const p = mkvFramePrefix(333, 721 * 401 * 4);
    expect(p.subarray(0, 4)).toEqual(Buffer.from([0x1f, 0x43, 0xb6, 0x75]));
    // Cluster size covers timecode element + SimpleBlock header + pixels.
    expect(p.readUIntBE(6, 6)).toBe(p.length - 12 + 721 * 401 * 4);
  });
});

test.describe('record options', () => {
  const source = { frame: () => ({ width: 2, height: 2, rgba: Buffer.alloc(16) }), version: 0, pointer: { x: 0, y: 0 }, connected: true } satisfies FrameSource;
  test('bitrate and crf are mutually exclusive', () => {
    expect(() => new Recorder(source, { bitrate: '2M', crf: 20 })).toThrow(UsageError);
  });
  test('bad values are refused early with a hint', () => {
    expect(() => new Recorder(source, { fps: 0 })).toThrow(/fps/);
    expect(() => new Recorder(source, { bitrate: 'fast' })).toThrow(/bitrate/);
    expect(() => new Recorder(source, { crf: 99 })).toThrow(/0\.\.51/);
    expect(() => new Recorder(source, { format: 'avi' as 'mp4' })).toThrow(/mp4, webm or gif/);
    expect(() => new Recorder(source, { scale: -1 })).toThrow(/scale/);
    expect(() => new Recorder(source, { bitrate: '800k', fps: 60, format: 'webm', crf: undefined })).not.toThrow();
  });
});
