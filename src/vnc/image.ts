/** PNG in and out of RGBA buffers (sharp), and copies of parts of a frame. */
import { access } from 'node:fs/promises';
import sharp from 'sharp';
import { UsageError } from '../errors.js';
import type { Frame } from '../frames.js';
import type { Region } from '../geometry.js';

/** Decode a PNG (path or bytes) to tightly packed RGBA. */
export async function decodeImage(reference: string | Buffer): Promise<Frame> {
  if (typeof reference === 'string') {
    await access(reference).catch(() => {
      throw new UsageError(`reference image ${reference} does not exist`, 'save one with vm.screenshot({ path, clip }) and check the path');
    });
  }
  try {
    const { data, info } = await sharp(reference).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, rgba: data };
  } catch (err) {
    const what = typeof reference === 'string' ? reference : `a ${reference.length}-byte buffer`;
    throw new UsageError(`cannot decode reference image ${what}: ${(err as Error).message}`, 'references must be PNG (or another format sharp reads)');
  }
}

export function encodePng(image: Frame): Promise<Buffer> {
  return sharp(image.rgba, { raw: { width: image.width, height: image.height, channels: 4 } })
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/** A copy of `region` (already clipped to the frame). */
export function cropFrame(frame: Frame, region: Region): Frame {
  const { x, y, width, height } = region;
  if (x === 0 && y === 0 && width === frame.width && height === frame.height) {
    return { width, height, rgba: Buffer.from(frame.rgba) };
  }
  const rgba = Buffer.allocUnsafe(width * height * 4);
  for (let row = 0; row < height; row++) {
    const start = ((y + row) * frame.width + x) * 4;
    frame.rgba.copy(rgba, row * width * 4, start, start + width * 4);
  }
  return { width, height, rgba };
}

/** Images side by side with a gap (for the diff artifact). */
export function sideBySide(images: Frame[], gap = 8): Frame {
  const width = images.reduce((w, i) => w + i.width, 0) + gap * (images.length - 1);
  const height = Math.max(...images.map((i) => i.height));
  const rgba = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) rgba.writeUInt32BE(0x808080ff, p * 4); // grey backdrop
  let left = 0;
  for (const img of images) {
    for (let row = 0; row < img.height; row++) {
      img.rgba.copy(rgba, (row * width + left) * 4, row * img.width * 4, (row + 1) * img.width * 4);
    }
    left += img.width + gap;
  }
  return { width, height, rgba };
}
