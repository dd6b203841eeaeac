/**
 * Conversion from the server's native pixel format to the RGBA mirror. rfb2 keeps the
 * format the server announces (QEMU: 32 bpp little-endian, r<<16 g<<8 b), so we convert
 * on our side from the announced fields rather than assume it.
 */
import { VncConnectError } from './errors.js';

export interface PixelFormat {
  bitsPerPixel: number;
  depth: number;
  bigEndian: boolean;
  trueColor: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

/** Byte offsets of r,g,b inside a 32-bit pixel, when each channel is a whole byte. */
function byteLayout(f: PixelFormat): [number, number, number] | undefined {
  if (f.bitsPerPixel !== 32 || f.redMax !== 255 || f.greenMax !== 255 || f.blueMax !== 255) return undefined;
  const shifts = [f.redShift, f.greenShift, f.blueShift];
  if (shifts.some((s) => s % 8 !== 0 || s > 24)) return undefined;
  const at = (s: number) => (f.bigEndian ? 3 - s / 8 : s / 8);
  return [at(f.redShift), at(f.greenShift), at(f.blueShift)];
}

function readPixel(src: Buffer, offset: number, bytes: number, bigEndian: boolean): number {
  if (bytes === 1) return src.readUInt8(offset);
  if (bytes === 2) return bigEndian ? src.readUInt16BE(offset) : src.readUInt16LE(offset);
  return bigEndian ? src.readUInt32BE(offset) : src.readUInt32LE(offset);
}

/** Scale a channel of `max` levels to 0..255. */
function scale(value: number, max: number): number {
  return max === 255 ? value : Math.round((value * 255) / max);
}

/** Checks the format is one we can convert (true colour, 8/16/32 bpp). */
export function assertSupportedFormat(f: PixelFormat): void {
  const hint = 'QEMU serves 32 bpp true colour; check which VNC server answers on this address';
  if (!f.trueColor) throw new VncConnectError('the VNC server uses a colour-map pixel format, which demotool cannot read', { hint });
  if (![8, 16, 32].includes(f.bitsPerPixel))
    throw new VncConnectError(`the VNC server sends ${f.bitsPerPixel} bits per pixel, which demotool cannot read`, { hint });
}

/**
 * Convert `count` pixels from `src` (at byte `srcOffset`, server format) into RGBA at
 * byte `dstOffset` of `dst`. Alpha is always 255.
 */
export function pixelsToRgba(src: Buffer, srcOffset: number, format: PixelFormat, dst: Buffer, dstOffset: number, count: number): void {
  const layout = byteLayout(format);
  if (layout) {
    const [r, g, b] = layout;
    for (let i = 0, s = srcOffset, d = dstOffset; i < count; i++, s += 4, d += 4) {
      dst[d] = src.readUInt8(s + r);
      dst[d + 1] = src.readUInt8(s + g);
      dst[d + 2] = src.readUInt8(s + b);
      dst[d + 3] = 255;
    }
    return;
  }
  const bytes = format.bitsPerPixel >> 3;
  for (let i = 0, s = srcOffset, d = dstOffset; i < count; i++, s += bytes, d += 4) {
    const v = readPixel(src, s, bytes, format.bigEndian);
    dst[d] = scale((v >>> format.redShift) & format.redMax, format.redMax);
    dst[d + 1] = scale((v >>> format.greenShift) & format.greenMax, format.greenMax);
    dst[d + 2] = scale((v >>> format.blueShift) & format.blueMax, format.blueMax);
    dst[d + 3] = 255;
  }
}

/**
 * Paint a rectangle of server pixels into an RGBA frame buffer of width `frameWidth`,
 * clipped to the frame (a rect may straddle a resize).
 */
export function blitRect(
  frame: { width: number; height: number; rgba: Buffer },
  rect: { x: number; y: number; width: number; height: number; data: Buffer },
  format: PixelFormat,
): void {
  const bytes = format.bitsPerPixel >> 3;
  const w = Math.min(rect.width, frame.width - rect.x);
  const h = Math.min(rect.height, frame.height - rect.y);
  if (w <= 0 || h <= 0) return;
  for (let row = 0; row < h; row++) {
    const src = row * rect.width * bytes;
    const dst = ((rect.y + row) * frame.width + rect.x) * 4;
    pixelsToRgba(rect.data, src, format, frame.rgba, dst, w);
  }
}

/**
 * A Cursor pseudo-encoding rectangle to RGBA: pixels in the server format followed by a
 * 1-bit mask, rows padded to whole bytes, most significant bit first.
 */
export function cursorToRgba(width: number, height: number, pixels: Buffer, mask: Buffer, format: PixelFormat): Buffer {
  const out = Buffer.alloc(width * height * 4);
  const bytes = format.bitsPerPixel >> 3;
  const stride = (width + 7) >> 3;
  for (let y = 0; y < height; y++) {
    pixelsToRgba(pixels, y * width * bytes, format, out, y * width * 4, width);
    for (let x = 0; x < width; x++) {
      const bit = (mask.readUInt8(y * stride + (x >> 3)) >> (7 - (x & 7))) & 1;
      out[(y * width + x) * 4 + 3] = bit ? 255 : 0;
    }
  }
  return out;
}
