import { test, expect } from '@playwright/test';
import { applyPlan, dueIndex, planTick, slotTime, totalFrames, type FrameCounts } from '../../src/record/schedule.js';

test.describe('frame scheduling', () => {
  test('frame n is due at t0 + n/fps', () => {
    expect(dueIndex(1000, 1000, 30)).toBe(0);
    expect(dueIndex(1000, 1033.3, 30)).toBe(0);
    expect(dueIndex(1000, 1000 + 1000 / 30, 30)).toBe(1);
    expect(dueIndex(1000, 2000, 30)).toBe(30);
    expect(dueIndex(0, 10_000, 25)).toBe(250);
    expect(slotTime(1000, 30, 30)).toBeCloseTo(2000, 9);
    // Exactly on a boundary computed with float error still counts as due.
    for (let n = 0; n < 1000; n++) expect(dueIndex(123.456, slotTime(123.456, n, 30), 30)).toBe(n);
  });

  test('nothing new when the slot was already accounted', () => {
    expect(planTick({ lastIndex: 5, due: 5, changed: true, busy: false })).toBeNull();
    expect(planTick({ lastIndex: 5, due: 4, changed: true, busy: false })).toBeNull();
  });

  test('a changed picture is sent in its own slot', () => {
    expect(planTick({ lastIndex: 5, due: 6, changed: true, busy: false })).toEqual({ index: 6, send: true, duplicated: 0, dropped: 0 });
  });

  test('an unchanged picture is a duplicate', () => {
    expect(planTick({ lastIndex: 5, due: 6, changed: false, busy: false })).toEqual({ index: 6, send: false, duplicated: 1, dropped: 0 });
  });

  test('a late timer catches up: missed slots repeat the old picture, the new one lands now', () => {
    expect(planTick({ lastIndex: 5, due: 9, changed: true, busy: false })).toEqual({ index: 9, send: true, duplicated: 3, dropped: 0 });
    expect(planTick({ lastIndex: 5, due: 9, changed: false, busy: false })).toEqual({ index: 9, send: false, duplicated: 4, dropped: 0 });
  });

  test('while ffmpeg is behind, due frames are counted, not buffered', () => {
    expect(planTick({ lastIndex: 5, due: 8, changed: true, busy: true })).toEqual({ index: 8, send: false, duplicated: 0, dropped: 3 });
    expect(planTick({ lastIndex: 5, due: 8, changed: false, busy: true })).toEqual({ index: 8, send: false, duplicated: 3, dropped: 0 });
  });

  test('total frames follow the wall clock, never fewer than accounted', () => {
    expect(totalFrames(0, 10_000, 30, 250)).toBe(300);
    expect(totalFrames(0, 10_010, 30, 250)).toBe(300);
    expect(totalFrames(0, 10_020, 30, 250)).toBe(301);
    expect(totalFrames(0, 1_000, 30, 40)).toBe(41);
    expect(totalFrames(0, 0, 30, -1)).toBe(1);
  });

  test('a jittery, sometimes stalled timer still yields wall-clock duration and consistent counts', () => {
    const fps = 30;
    let now = 0;
    let lastIndex = 0;
    let counts: FrameCounts = { sent: 1, duplicated: 0, dropped: 0 };
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    while (now < 10_000) {
      // Nominal 33 ms, jitter up to 15 ms, and a 400 ms stall now and then (GC, busy event loop).
      now += 1000 / fps + rand() * 15 + (rand() < 0.01 ? 400 : 0);
      const plan = planTick({ lastIndex, due: dueIndex(0, now, fps), changed: rand() < 0.3, busy: rand() < 0.05 });
      if (!plan) continue;
      lastIndex = plan.index;
      counts = applyPlan(counts, plan);
    }
    const total = totalFrames(0, now, fps, lastIndex);
    expect(Math.abs(total / fps - now / 1000)).toBeLessThan(1 / fps);
    // Every slot up to the last accounted one is exactly one of sent/duplicated/dropped.
    expect(counts.sent + counts.duplicated + counts.dropped).toBe(lastIndex + 1);
    expect(counts.duplicated).toBeGreaterThan(0);
    expect(counts.dropped).toBeGreaterThan(0);
  });
});
