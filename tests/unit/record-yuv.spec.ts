import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmentArgs } from '../../src/record/encoding.js';
import { mkvHeader } from '../../src/record/mkv.js';
import { YuvConverter } from '../../src/record/yuv.js';
import { Recorder } from '../../src/record/index.js';
import type { FrameSource } from '../../src/frames.js';

/** A picture with smooth gradients and sharp black-on-white strokes, like text on a desktop. */
function picture(width: number, height: number, seed = 0): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      const stroke = x > width / 2 && (x + y + seed) % 5 === 0;
      rgba[p] = stroke ? 0 : (x * 255) / width;
      rgba[p + 1] = stroke ? 0 : (y * 255) / height;
      rgba[p + 2] = stroke ? 0 : 160;
      rgba[p + 3] = 255;
    }
  return rgba;
}

/** What ffmpeg's swscale makes of the same RGBA (what the recorder used before). */
async function ffmpegI420(rgba: Buffer, width: number, height: number): Promise<Buffer> {
  const args = ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${width}x${height}`, '-i', '-', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', '-'];
  return (await execa('ffmpeg', args, { input: rgba, encoding: 'buffer' })).stdout as Buffer;
}

test('I420 from Node matches ffmpeg: luma within 1, chroma within 2 on average', async () => {
  const [w, h] = [64, 32];
  const rgba = picture(w, h);
  const ours = Buffer.alloc((w * h * 3) / 2);
  new YuvConverter(w, h).convert(rgba, ours);
  const theirs = await ffmpegI420(rgba, w, h);
  let lumaMax = 0;
  for (let i = 0; i < w * h; i++) lumaMax = Math.max(lumaMax, Math.abs(ours[i]! - theirs[i]!));
  let chromaSum = 0;
  for (let i = w * h; i < ours.length; i++) chromaSum += Math.abs(ours[i]! - theirs[i]!);
  expect(lumaMax).toBeLessThanOrEqual(1);
  expect(chromaSum / (ours.length - w * h)).toBeLessThanOrEqual(2);
});

test('only the row pairs that changed are converted, and the planes stay whole', () => {
  const [w, h] = [32, 16];
  const conv = new YuvConverter(w, h);
  const out = Buffer.alloc((w * h * 3) / 2);
  const rgba = picture(w, h);
  expect(conv.convert(rgba, out)).toBe(h / 2);
  expect(conv.convert(rgba, out)).toBe(0);
  rgba.fill(0, (5 * w + 3) * 4, (5 * w + 4) * 4); // one pixel on row 5: row pair 2
  expect(conv.convert(rgba, out)).toBe(1);
  const fresh = Buffer.alloc(out.length);
  new YuvConverter(w, h).convert(rgba, fresh);
  expect(out.equals(fresh)).toBe(true);
  expect(() => new YuvConverter(33, 16)).toThrow(/even/);
});

test('unscaled even 4:2:0 video takes I420 from Node; odd, scaled and gif keep RGBA for ffmpeg', () => {
  // Why: Node converts only the changed rows and the pipe carries 1.5 bytes a pixel, not 4.
  const even = segmentArgs({ format: 'mp4', fps: 30, width: 1280, height: 800 });
  expect(even.pixels).toBe('I420');
  expect(even.outputOptions[even.outputOptions.indexOf('-vf') + 1]).toBe('fps=30');
  expect(segmentArgs({ format: 'webm', fps: 30, width: 1280, height: 800 }).pixels).toBe('I420');
  expect(segmentArgs({ format: 'mp4', fps: 30, width: 721, height: 400 }).pixels).toBe('RGBA');
  expect(segmentArgs({ format: 'mp4', fps: 30, width: 1280, height: 800, scale: 0.5 }).pixels).toBe('RGBA');
  expect(segmentArgs({ format: 'gif', fps: 10, width: 1280, height: 800 }).pixels).toBe('RGBA');
  expect(mkvHeader(1280, 800, 30, 'I420').includes(Buffer.from('I420'))).toBe(true);
});

test('a recording through the I420 path shows the source picture in the right colours', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rec-yuv-'));
  try {
    const [w, h] = [64, 48];
    let version = 0;
    let rgba = picture(w, h);
    const source: FrameSource = {
      frame: () => ({ width: w, height: h, rgba }),
      pointer: { x: -100, y: -100 },
      connected: true,
      get version() {
        return version;
      },
    };
    const rec = new Recorder(source, { cursor: false, poster: false, crf: 0 });
    await rec.start(join(dir, 'v.mp4'));
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rgba = picture(w, h, i);
      version++;
    }
    const result = await rec.stop();
    expect(result.durationSec).toBeGreaterThan(0.4);
    const all = (await execa('ffmpeg', ['-v', 'error', '-i', result.path, '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { encoding: 'buffer' }))
      .stdout as Buffer;
    const last = all.subarray(all.length - w * h * 3);
    // Lossless H.264 of 4:2:0: the colour of the 1-pixel strokes is shared with their neighbours
    // (about 5 per channel on average); the picture before (another stroke phase) is off by 30.
    const error = (want: Buffer) => {
      let sum = 0;
      for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) sum += Math.abs(last[i * 3 + c]! - want[i * 4 + c]!);
      return sum / (w * h * 3);
    };
    expect(error(rgba)).toBeLessThan(8);
    expect(error(picture(w, h, 4))).toBeGreaterThan(20);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
