import { UsageError } from '../errors.js';

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** `region` intersected with the screen; throws when nothing is left. */
export function clipRegion(region: Region | undefined, screen: { width: number; height: number }): Region {
  if (!region) return { x: 0, y: 0, width: screen.width, height: screen.height };
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
