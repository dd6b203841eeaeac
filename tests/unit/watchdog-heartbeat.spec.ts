import { test, expect } from '@playwright/test';
import { Heartbeat } from '../../src/watchdog/heartbeat.js';
import { IdleTimer } from '../../src/watchdog/idle.js';
import { Escalation } from '../../src/watchdog/escalation.js';

// Quiet in this worker only: a top-level env change would run in Playwright's runner while it
// collects tests, and reach every worker and child process after it.
test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

/** A hand-driven monotonic clock. */
function fakeClock(start = 1_000) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, {
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  });
}

test.describe('Heartbeat', () => {
  test('msUntilTimeout: from the last beat (or a grace period), none while paused; timed out one ms after it reaches 0', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(10_000, clock);
    clock.advance(4_000);
    hb.beat();
    clock.advance(3_000);
    expect(hb.msUntilTimeout).toBe(7_000);
    clock.advance(7_000);
    expect(hb.msUntilTimeout).toBe(0);
    expect(hb.state).toBe('healthy');
    clock.advance(1);
    expect(hb.state).toBe('timed-out');
    expect(hb.msUntilTimeout).toBe(0);
    hb.restart(5_000);
    expect(hb.msUntilTimeout).toBe(15_000);
    hb.pause('save');
    expect(hb.msUntilTimeout).toBeUndefined();
  });

  test('waiting → healthy → timed-out, and a beat brings it back', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(10_000, clock);
    expect(hb.state).toBe('waiting');
    expect(hb.count).toBe(0);

    clock.advance(4_000);
    hb.beat();
    expect(hb.state).toBe('healthy');
    expect(hb.count).toBe(1);
    expect(hb.ageMs).toBe(0);

    clock.advance(10_000); // exactly the timeout: not yet
    expect(hb.state).toBe('healthy');
    expect(hb.ageMs).toBe(10_000);
    clock.advance(1);
    expect(hb.state).toBe('timed-out');

    hb.beat();
    expect(hb.state).toBe('healthy');
    expect(hb.count).toBe(2);
  });

  test('with no beat at all the timer runs from the start', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(5_000, clock);
    clock.advance(5_000);
    expect(hb.state).toBe('waiting');
    expect(hb.ageMs).toBe(5_000);
    clock.advance(1);
    expect(hb.state).toBe('timed-out');
  });

  test('restart(grace) forgets the old beat and delays judging by the grace', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(10_000, clock);
    hb.beat();
    clock.advance(30_000);
    expect(hb.state).toBe('timed-out');

    hb.restart(5_000);
    expect(hb.state).toBe('waiting');
    expect(hb.ageMs).toBe(0);
    clock.advance(14_999); // grace + timeout - 1
    expect(hb.state).toBe('waiting');
    clock.advance(1); // grace + timeout exactly
    expect(hb.state).toBe('waiting');
    clock.advance(1);
    expect(hb.state).toBe('timed-out');
    // The count and the last beat for the status API survive a restart.
    expect(hb.count).toBe(1);
    expect(hb.lastBeatEpoch).not.toBeNull();
  });

  test('restart() without grace judges from now', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(1_000, clock);
    clock.advance(5_000);
    hb.restart();
    expect(hb.state).toBe('waiting');
    clock.advance(1_001);
    expect(hb.state).toBe('timed-out');
  });

  test('a beat during the grace ends it: the guest is alive, so the timeout runs from that beat', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(1_000, clock);
    hb.restart(10_000);
    clock.advance(500);
    hb.beat();
    expect(hb.state).toBe('healthy');
    clock.advance(1_000);
    expect(hb.state).toBe('healthy');
    clock.advance(1); // the grace would have lasted another 8.5 s
    expect(hb.state).toBe('timed-out');
  });

  test('paused time is not counted: a long pause then resume is not timed-out', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(10_000, clock);
    hb.beat();
    clock.advance(8_000);
    hb.pause('snapshot');
    expect(hb.state).toBe('paused');
    clock.advance(10 * 60_000);
    expect(hb.state).toBe('paused');
    hb.resume('snapshot');
    expect(hb.state).toBe('healthy');
    clock.advance(10_000);
    expect(hb.state).toBe('healthy');
    clock.advance(1);
    expect(hb.state).toBe('timed-out');
  });

  test('pause reasons nest: judging resumes only when every reason is gone', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(1_000, clock);
    hb.pause('snapshot');
    hb.pause('maintenance');
    clock.advance(5_000);
    hb.resume('snapshot');
    expect(hb.state).toBe('paused');
    hb.resume('not-a-reason'); // unknown reasons change nothing
    expect(hb.state).toBe('paused');
    clock.advance(5_000);
    hb.resume('maintenance');
    expect(hb.state).toBe('waiting');
    clock.advance(1_001);
    expect(hb.state).toBe('timed-out');
  });

  test('a stray resume does not reset a running timer', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(1_000, clock);
    clock.advance(1_500);
    hb.resume('snapshot');
    expect(hb.state).toBe('timed-out');
  });

  test('lastBeatEpoch is null before the first beat, then the wall clock in seconds', () => {
    const clock = fakeClock();
    const hb = new Heartbeat(10_000, clock);
    expect(hb.lastBeatEpoch).toBeNull();
    const before = Date.now() / 1000;
    hb.beat();
    const after = Date.now() / 1000;
    const epoch = hb.lastBeatEpoch;
    expect(epoch).not.toBeNull();
    expect(epoch!).toBeGreaterThanOrEqual(before);
    expect(epoch!).toBeLessThanOrEqual(after);
  });
});

test.describe('IdleTimer', () => {
  test('is not armed until the guest reports: a guest without an idle monitor never expires', () => {
    const clock = fakeClock();
    const idle = new IdleTimer(60_000, clock);
    clock.advance(10 * 60_000);
    expect(idle.expired).toBe(false);
    idle.reset(0);
    clock.advance(60_001);
    expect(idle.expired).toBe(true);
  });

  test('expires after the timeout with no activity', () => {
    const clock = fakeClock();
    const idle = new IdleTimer(60_000, clock);
    idle.reset(0);
    expect(idle.enabled).toBe(true);
    expect(idle.idleMs).toBe(0);
    clock.advance(60_000);
    expect(idle.expired).toBe(false);
    clock.advance(1);
    expect(idle.expired).toBe(true);
  });

  test('reset(0) postpones: activity is now', () => {
    const clock = fakeClock();
    const idle = new IdleTimer(60_000, clock);
    clock.advance(50_000);
    idle.reset(0);
    expect(idle.idleMs).toBe(0);
    clock.advance(50_000);
    expect(idle.expired).toBe(false);
    expect(idle.idleMs).toBe(50_000);
    idle.reset();
    expect(idle.idleMs).toBe(0);
  });

  test('a report of idle N seconds puts the last activity at now - N', () => {
    const clock = fakeClock();
    const idle = new IdleTimer(60_000, clock);
    idle.reset(0);
    clock.advance(100_000);
    expect(idle.expired).toBe(true);
    idle.reset(12_000);
    expect(idle.idleMs).toBe(12_000);
    expect(idle.expired).toBe(false);
    clock.advance(48_000);
    expect(idle.expired).toBe(false);
    clock.advance(1);
    expect(idle.expired).toBe(true);
  });

  test("the guest's latest report counts (a long idle report makes the timeout act); negative counts as 0", () => {
    const clock = fakeClock();
    const idle = new IdleTimer(60_000, clock);
    clock.advance(100_000);
    idle.reset(0);
    clock.advance(5_000);
    idle.reset(720_000); // the original's idle monitor: "idle for 720 s, reset me"
    expect(idle.idleMs).toBe(720_000);
    expect(idle.expired).toBe(true);
    idle.reset(-10_000);
    expect(idle.idleMs).toBe(0);
  });

  test('restart() starts fresh', () => {
    const clock = fakeClock();
    const idle = new IdleTimer(1_000, clock);
    idle.reset(0);
    clock.advance(5_000);
    expect(idle.expired).toBe(true);
    idle.restart();
    expect(idle.expired).toBe(false);
    expect(idle.idleMs).toBe(0);
  });

  test('timeout 0 disables it: never expires', () => {
    const clock = fakeClock();
    const idle = new IdleTimer(0, clock);
    expect(idle.enabled).toBe(false);
    clock.advance(365 * 24 * 3_600_000);
    expect(idle.expired).toBe(false);
    expect(idle.idleMs).toBe(365 * 24 * 3_600_000);
  });
});

test.describe('Escalation', () => {
  const policy = { maxReverts: 3, windowMs: 60_000, maxRestarts: 2 };

  test('N reverts inside the window make the next step a restart', () => {
    const clock = fakeClock();
    const e = new Escalation(policy, clock);
    for (let i = 0; i < 3; i++) {
      expect(e.next()).toBe('revert');
      e.recorded('revert');
      clock.advance(10_000);
    }
    expect(e.recentReverts).toBe(3);
    expect(e.next()).toBe('restart');
  });

  test('reverts older than the window are forgotten', () => {
    const clock = fakeClock();
    const e = new Escalation(policy, clock);
    e.recorded('revert');
    clock.advance(40_000);
    e.recorded('revert');
    clock.advance(20_000); // the first is exactly windowMs old: still counted
    e.recorded('revert');
    expect(e.recentReverts).toBe(3);
    expect(e.next()).toBe('restart');
    clock.advance(1); // now the first is outside
    expect(e.recentReverts).toBe(2);
    expect(e.next()).toBe('revert');
    clock.advance(60_000);
    expect(e.recentReverts).toBe(0);
  });

  test('maxRestarts restarts in a row give up', () => {
    const clock = fakeClock();
    const e = new Escalation(policy, clock);
    for (let i = 0; i < 3; i++) e.recorded('revert');
    expect(e.next()).toBe('restart');
    e.recorded('restart');
    expect(e.recentReverts).toBe(0);
    // A restart that brought no healthy guest back: the next recovery is a restart again.
    expect(e.next()).toBe('restart');
    e.recorded('restart');
    expect(e.next()).toBe('give-up');
    clock.advance(24 * 3_600_000); // time alone does not end a streak
    expect(e.next()).toBe('give-up');
  });

  test('recovered() ends the restart streak', () => {
    const clock = fakeClock();
    const e = new Escalation(policy, clock);
    e.recorded('restart');
    e.recovered();
    expect(e.next()).toBe('revert');
    e.recorded('restart');
    expect(e.next()).toBe('restart'); // one in a row again, not two
    e.recorded('restart');
    expect(e.next()).toBe('give-up');
    e.recovered();
    expect(e.next()).toBe('revert');
  });

  test('recovered() keeps the reverts in the window', () => {
    const clock = fakeClock();
    const e = new Escalation(policy, clock);
    for (let i = 0; i < 3; i++) e.recorded('revert');
    e.recovered();
    expect(e.next()).toBe('restart');
  });

  test('clear() forgets reverts and restarts', () => {
    const clock = fakeClock();
    const e = new Escalation(policy, clock);
    e.recorded('restart');
    e.recorded('restart');
    for (let i = 0; i < 3; i++) e.recorded('revert');
    expect(e.next()).toBe('give-up');
    e.clear();
    expect(e.recentReverts).toBe(0);
    expect(e.next()).toBe('revert');
  });
});
