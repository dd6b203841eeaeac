/** Checking caller-given rectangles and fitting them to the screen. */
import { UsageError } from '../errors.js';
import type { Region } from '../geometry.js';

/** x, y, width and height must be finite numbers (a string '10' would be concatenated, not added). */
export function checkRegion(region: Region, name = 'region'): Region {
  if (typeof region !== 'object' || region === null) throw new UsageError(`${name} must be { x, y, width, height }, not ${JSON.stringify(region)}`);
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    const v = region[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`${name}.${key} must be a number of pixels, not ${JSON.stringify(v)}`);
  }
  if (region.width <= 0 || region.height <= 0) throw new UsageError(`${name} must have a positive width and height`);
  return region;
}

/** `region` intersected with the screen; throws when nothing is left. */
export function clipRegion(region: Region | undefined, screen: { width: number; height: number }): Region {
  if (!region) return { x: 0, y: 0, width: screen.width, height: screen.height };
  checkRegion(region);
  const x = Math.max(0, Math.round(region.x));
  const y = Math.max(0, Math.round(region.y));
  const x2 = Math.min(screen.width, Math.round(region.x + region.width));
  const y2 = Math.min(screen.height, Math.round(region.y + region.height));
  if (x2 <= x || y2 <= y) {
    throw new UsageError(
      `region ${region.width}x${region.height}+${region.x}+${region.y} is outside the ${screen.width}x${screen.height} screen`,
      'give x, y, width, height in screen pixels',
    );
  }
  return { x, y, width: x2 - x, height: y2 - y };
}
