/**
 * Text on screen through the tesseract CLI. Screens are upscaled and made dark-on-light
 * greyscale first: tesseract reads 9x16 VGA text or small UI fonts poorly at 1:1.
 */
import { execa } from 'execa';
import sharp from 'sharp';
import { DemotoolError } from '../errors.js';
import type { Frame } from '../frames.js';

const OCR_TIMEOUT_MS = 60_000;

/** Upscale factor: small images (text mode, small regions) need more. */
function ocrScale(width: number, height: number): number {
  return width * height <= 800 * 600 ? 3 : 2;
}

/** Mean luminance 0..255, to decide whether to invert light-on-dark text. */
function meanLuminance(image: Frame): number {
  let sum = 0;
  const n = image.width * image.height;
  for (let i = 0; i < n * 4; i += 4) sum += 0.299 * image.rgba.readUInt8(i) + 0.587 * image.rgba.readUInt8(i + 1) + 0.114 * image.rgba.readUInt8(i + 2);
  return n ? sum / n : 0;
}

async function prepareForOcr(image: Frame): Promise<Buffer> {
  const scale = ocrScale(image.width, image.height);
  let img = sharp(image.rgba, { raw: { width: image.width, height: image.height, channels: 4 } })
    .removeAlpha()
    .greyscale();
  if (meanLuminance(image) < 128) img = img.negate({ alpha: false });
  return img
    .resize({ width: image.width * scale, height: image.height * scale, kernel: 'lanczos3' })
    .normalise()
    .png()
    .toBuffer();
}

export async function recognise(image: Frame): Promise<string> {
  const png = await prepareForOcr(image);
  try {
    const { stdout } = await execa('tesseract', ['stdin', 'stdout', '--psm', '6'], {
      input: png,
      timeout: OCR_TIMEOUT_MS,
      encoding: 'utf8',
    });
    return stdout.replace(/\f/g, '').trimEnd();
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ENOENT';
    throw new DemotoolError('EOCR', `tesseract failed: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      hint: missing ? 'install tesseract-ocr (apt-get install tesseract-ocr)' : undefined,
    });
  }
}
