import type { CursorImage, Frame } from '../frames.js';

/** The classic arrow: X = black outline, o = white fill, space = transparent. Hotspot at the tip. */
const ARROW = [
  'X',
  'XX',
  'XoX',
  'XooX',
  'XoooX',
  'XooooX',
  'XoooooX',
  'XooooooX',
  'XoooooooX',
  'XooooooooX',
  'XoooooooooX',
  'XooooooXXXXX',
  'XoooXooX',
  'XooXXooX',
  'XoX XooX',
  'XX   XooX',
  'X    XooX',
  '      XooX',
  '      XooX',
  '       XX',
];

let arrow: CursorImage | undefined;

/** The built-in pointer drawn when the guest did not send a cursor shape. */
export function builtinArrow(): CursorImage {
  if (arrow) return arrow;
  const width = Math.max(...ARROW.map((r) => r.length));
  const height = ARROW.length;
  const rgba = Buffer.alloc(width * height * 4);
  ARROW.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      const c = row[x];
      if (c === ' ') continue;
      const v = c === 'o' ? 255 : 0;
      rgba.set([v, v, v, 255], (y * width + x) * 4);
    }
  });
  arrow = { width, height, hotX: 0, hotY: 0, rgba };
  return arrow;
}

/**
 * Alpha-blends `cursor` into `dst` (mutated) so its hotspot lands on (x, y).
 * Parts outside the frame are clipped. The frame stays opaque.
 */
export function compositeCursor(dst: Frame, cursor: CursorImage, x: number, y: number): void {
  blendImage(dst, cursor, Math.round(x) - cursor.hotX, Math.round(y) - cursor.hotY);
}

/** Source-over blend of an RGBA image at (left, top), clipped to `dst`. */
export function blendImage(dst: Frame, img: { width: number; height: number; rgba: Buffer }, left: number, top: number, opacity = 1): void {
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(dst.width, left + img.width);
  const y1 = Math.min(dst.height, top + img.height);
  const d = dst.rgba;
  const s = img.rgba;
  for (let y = y0; y < y1; y++) {
    let di = (y * dst.width + x0) * 4;
    let si = ((y - top) * img.width + (x0 - left)) * 4;
    for (let x = x0; x < x1; x++, di += 4, si += 4) {
      // Indexes stay inside both images (the loop bounds are clipped to them).
      const a = (s[si + 3]! * opacity) / 255;
      if (a <= 0) continue;
      const b = 1 - a;
      d[di] = s[si]! * a + d[di]! * b + 0.5;
      d[di + 1] = s[si + 1]! * a + d[di + 1]! * b + 0.5;
      d[di + 2] = s[si + 2]! * a + d[di + 2]! * b + 0.5;
      d[di + 3] = 255;
    }
  }
}

/** Cheap identity check so the recorder notices a new cursor shape. */
export function sameCursor(a: CursorImage | undefined, b: CursorImage | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.width === b.width && a.height === b.height && a.hotX === b.hotX && a.hotY === b.hotY && a.rgba.equals(b.rgba);
}
