import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Domain } from '../libvirt/index.js';

/**
 * The screen of any domain as a PNG, through libvirt (`virsh screenshot`): no VNC connection to
 * keep, so it works on a domain demotool did not define and across QEMU restarts. QEMU answers
 * with a binary PPM (P6), which is converted here.
 */
export async function domainScreenshot(domain: Domain): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'demotool-shot-'));
  try {
    const file = join(dir, 'screen');
    await domain.screenshot(file);
    const data = await readFile(file);
    return data.subarray(0, 8).equals(PNG_SIGNATURE) ? data : ppmToPng(data);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A binary PPM (P6, maxval 255) as a PNG. */
export function ppmToPng(ppm: Buffer): Buffer {
  // The header: P6, width, height, maxval, each separated by whitespace (comments start with #), then one whitespace byte.
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4 && i < ppm.length) {
    while (i < ppm.length && /\s/.test(String.fromCharCode(ppm[i]!))) i++;
    if (ppm[i] === 0x23) {
      while (i < ppm.length && ppm[i] !== 0x0a) i++;
      continue;
    }
    const start = i;
    while (i < ppm.length && !/\s/.test(String.fromCharCode(ppm[i]!))) i++;
    fields.push(ppm.subarray(start, i).toString('latin1'));
  }
  const [magic, w, h, max] = fields;
  const width = Number(w);
  const height = Number(h);
  if (magic !== 'P6' || max !== '255' || !(width > 0) || !(height > 0)) throw new Error(`not a P6 PPM screenshot (header ${JSON.stringify(fields)})`);
  const pixels = ppm.subarray(i + 1);
  if (pixels.length < width * height * 3) throw new Error(`PPM screenshot is cut short: ${pixels.length} of ${width * height * 3} bytes`);
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    png.data[p * 4] = pixels[p * 3]!;
    png.data[p * 4 + 1] = pixels[p * 3 + 1]!;
    png.data[p * 4 + 2] = pixels[p * 3 + 2]!;
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}
