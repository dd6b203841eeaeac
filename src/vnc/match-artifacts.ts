/**
 * What a failed screen match leaves behind so it can be seen: the screen as it was, and
 * [reference | screen at the best match | their pixel difference] side by side.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import pixelmatch from 'pixelmatch';
import type { Frame } from '../frames.js';
import type { Point } from '../geometry.js';
import { cropFrame, encodePng, sideBySide } from './image.js';
import { scoredMask, type Needle } from './needle.js';

/** The reference's file name without extension, or 'screen' for an in-memory image. */
export function referenceName(reference: string | Buffer): string {
  return typeof reference === 'string' ? basename(reference, extname(reference)) : 'screen';
}

/**
 * Writes <name>-actual.png (the screen) and, when there was a best match, <name>-diff.png
 * into `dir`. A second failure of the same reference gets name-2, name-3... so it does not
 * overwrite the first.
 */
export async function writeMatchArtifacts(
  dir: string,
  name: string,
  screen: Frame,
  reference: Frame,
  needle: Needle,
  best: Point | undefined,
): Promise<{ actualPath: string; diffPath?: string }> {
  await mkdir(dir, { recursive: true });
  const stem = await freeStem(dir, name);
  const actualPath = join(dir, `${stem}-actual.png`);
  await writeFile(actualPath, await encodePng(screen));
  if (!best) return { actualPath };
  const diffPath = join(dir, `${stem}-diff.png`);
  await writeFile(diffPath, await encodePng(diffImage(screen, reference, needle, best)));
  return { actualPath, diffPath };
}

/** `name`, or name-2, name-3... whichever has no -actual.png in `dir` yet. */
async function freeStem(dir: string, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const stem = i === 1 ? name : `${name}-${i}`;
    const taken = await stat(join(dir, `${stem}-actual.png`)).then(
      () => true,
      () => false,
    );
    if (!taken) return stem;
  }
}

/** [reference | screen at the best spot | pixelmatch diff], unscored pixels blanked in both. */
function diffImage(screen: Frame, reference: Frame, needle: Needle, best: Point): Frame {
  const actual = cropFrame(screen, { x: best.x, y: best.y, width: reference.width, height: reference.height });
  const expected: Frame = { ...reference, rgba: Buffer.from(reference.rgba) };
  const scored = scoredMask(needle);
  scored.forEach((isScored, p) => {
    if (isScored) return;
    expected.rgba.writeUInt32BE(0x00000000, p * 4);
    actual.rgba.writeUInt32BE(0x00000000, p * 4);
  });
  const diff: Frame = { width: reference.width, height: reference.height, rgba: Buffer.alloc(reference.width * reference.height * 4) };
  pixelmatch(expected.rgba, actual.rgba, diff.rgba, reference.width, reference.height, { threshold: 0.1 });
  return sideBySide([expected, actual, diff]);
}
