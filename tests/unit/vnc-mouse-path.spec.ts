import { expect, test } from '@playwright/test';
import { easeInOutCubic, easedPath, movePlan, DEFAULT_MOVE_MS, MOVE_FRAME_MS } from '../../src/vnc/path.js';
import { ButtonMask, wheelNotches } from '../../src/vnc/mouse.js';

test('easing starts slow, ends slow, is symmetric and monotonic', () => {
  expect(easeInOutCubic(0)).toBe(0);
  expect(easeInOutCubic(1)).toBe(1);
  expect(easeInOutCubic(0.5)).toBeCloseTo(0.5);
  expect(easeInOutCubic(0.1)).toBeLessThan(0.1);
  expect(easeInOutCubic(0.9)).toBeGreaterThan(0.9);
  let last = 0;
  for (let t = 0; t <= 1; t += 0.01) {
    expect(easeInOutCubic(t)).toBeGreaterThanOrEqual(last);
    last = easeInOutCubic(t);
  }
});

test('the path has exactly `steps` points and ends exactly on the target', () => {
  for (const steps of [1, 2, 7, 19, 100]) {
    const path = easedPath({ x: 3, y: 500 }, { x: 1279, y: 1 }, steps);
    expect(path).toHaveLength(steps);
    expect(path[path.length - 1]).toEqual({ x: 1279, y: 1 });
  }
});

test('points are integers and move monotonically towards the target', () => {
  const path = easedPath({ x: 0, y: 100 }, { x: 300, y: 0 }, 20);
  let px = 0;
  let py = 100;
  for (const p of path) {
    expect(Number.isInteger(p.x) && Number.isInteger(p.y)).toBe(true);
    expect(p.x).toBeGreaterThanOrEqual(px);
    expect(p.y).toBeLessThanOrEqual(py);
    px = p.x;
    py = p.y;
  }
  // eased: the first step is much shorter than a middle one
  const xs = path.map((p) => p.x);
  expect(xs[0]).toBeLessThan((xs[10] ?? NaN) - (xs[9] ?? NaN));
});

test('zero distance still yields the target', () => {
  expect(easedPath({ x: 5, y: 5 }, { x: 5, y: 5 }, 3)).toEqual([
    { x: 5, y: 5 },
    { x: 5, y: 5 },
    { x: 5, y: 5 },
  ]);
});

test('move plan: default glide, steps alone, duration alone', () => {
  expect(movePlan({})).toEqual({ steps: Math.round(DEFAULT_MOVE_MS / MOVE_FRAME_MS), duration: DEFAULT_MOVE_MS });
  expect(movePlan({ steps: 5 })).toEqual({ steps: 5, duration: 5 * MOVE_FRAME_MS });
  expect(movePlan({ steps: 1 })).toEqual({ steps: 1, duration: 0 });
  expect(movePlan({ duration: 0 })).toEqual({ steps: 1, duration: 0 });
  expect(movePlan({ duration: 1000 }).steps).toBe(Math.round(1000 / MOVE_FRAME_MS));
  expect(movePlan({ steps: 10, duration: 50 })).toEqual({ steps: 10, duration: 50 });
});

test('VNC button bits and wheel notches', () => {
  expect(ButtonMask).toEqual({ left: 1, middle: 2, right: 4, wheelUp: 8, wheelDown: 16, wheelLeft: 32, wheelRight: 64 });
  expect(wheelNotches(0)).toBe(0);
  expect(wheelNotches(1)).toBe(1);
  expect(wheelNotches(-100)).toBe(1);
  expect(wheelNotches(250)).toBe(3);
  expect(wheelNotches(-1000)).toBe(10);
});
