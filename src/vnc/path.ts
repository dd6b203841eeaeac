/** Pointer paths that look like a hand moved the mouse: eased, integer, ending exactly on target. */
import { UsageError } from '../errors.js';
import type { Point } from '../geometry.js';

/** Slow start, fast middle, slow end. */
export function easeInOutCubic(t: number): number {
  return t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2;
}

/**
 * `steps` points from just after `from` to exactly `to` (the start point itself is not
 * included: the pointer is already there).
 */
export function easedPath(from: Point, to: Point, steps: number): Point[] {
  const n = Math.max(1, Math.floor(steps));
  const points: Point[] = [];
  for (let i = 1; i <= n; i++) {
    const k = i === n ? 1 : easeInOutCubic(i / n);
    points.push({ x: Math.round(from.x + (to.x - from.x) * k), y: Math.round(from.y + (to.y - from.y) * k) });
  }
  return points;
}

/** About one pointer event per video frame at 60 fps. */
export const MOVE_FRAME_MS = 16;
export const DEFAULT_MOVE_MS = 300;

/**
 * How many steps and how long: `steps` alone paces them a frame apart, `duration` alone
 * picks a frame's worth of steps, neither means the default 300 ms glide.
 */
export function movePlan(options: { steps?: number; duration?: number }): { steps: number; duration: number } {
  const { steps: s, duration: d } = options;
  if (s !== undefined && (!Number.isInteger(s) || s < 1 || s > 10_000))
    throw new UsageError(`mouse steps must be a whole number from 1 to 10000, not ${JSON.stringify(s)}`);
  if (d !== undefined && (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 600_000))
    throw new UsageError(`mouse duration must be milliseconds from 0 to 600000, not ${JSON.stringify(d)}`);
  if (options.steps !== undefined) {
    const steps = Math.max(1, Math.floor(options.steps));
    return { steps, duration: options.duration ?? (steps > 1 ? steps * MOVE_FRAME_MS : 0) };
  }
  const duration = Math.max(0, options.duration ?? DEFAULT_MOVE_MS);
  return { steps: Math.max(1, Math.round(duration / MOVE_FRAME_MS)), duration };
}
