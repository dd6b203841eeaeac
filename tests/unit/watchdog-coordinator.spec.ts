import { test, expect } from '@playwright/test';
import { createLogger } from '../../src/log.js';
import { RevertCoordinator, type RecoveryActions } from '../../src/watchdog/coordinator.js';
import { Escalation, type EscalationPolicy } from '../../src/watchdog/escalation.js';
import { RevertFailure } from '../../src/watchdog/errors.js';
import { DomainMonitor, triggerForState } from '../../src/watchdog/domain-monitor.js';
import type { CoordinatorState } from '../../src/watchdog/states.js';
import type { RevertMethod, Trigger } from '../../src/watchdog/triggers.js';
import { scriptedDomain } from './support/fake-domain.js';

// Quiet in this worker only: a top-level env change would run in Playwright's runner while it
// collects tests, and reach every worker and child process after it.
test.beforeAll(() => {
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
});

const log = createLogger('test');

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Fake recovery actions: record every call; each action may wait on a gate, or fail. */
class FakeActions implements RecoveryActions {
  calls: string[] = [];
  revertGate?: Promise<void>;
  revertError?: Error;
  restartError?: Error;
  stopGate?: Promise<void>;
  /** Milliseconds the fake clock moves during each revert/restart. */
  actionMs = 0;
  screenPng: Buffer | undefined = Buffer.from('png-before');
  snapshot = 'ready';

  constructor(private readonly clock?: { advance(ms: number): void }) {}

  async revert(): Promise<RevertMethod> {
    this.calls.push('revert');
    if (this.revertGate) await this.revertGate;
    this.clock?.advance(this.actionMs);
    if (this.revertError) throw this.revertError;
    return 'in-place';
  }

  async restart(): Promise<RevertMethod> {
    this.calls.push('restart');
    this.clock?.advance(this.actionMs);
    if (this.restartError) throw this.restartError;
    return 'restart';
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
    if (this.stopGate) await this.stopGate;
  }

  async screen(): Promise<Buffer | undefined> {
    this.calls.push('screen');
    return this.screenPng;
  }

  afterRecovery(): void {
    this.calls.push('afterRecovery');
  }

  snapshotName(): string {
    return this.snapshot;
  }

  /** Only the calls that touch the VM. */
  get vmCalls(): string[] {
    return this.calls.filter((c) => c === 'revert' || c === 'restart' || c === 'stop');
  }
}

/** Let every pending promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function fakeClock(start = 0) {
  let now = start;
  return Object.assign(() => now, { advance: (ms: number) => void (now += ms) });
}

function setup(options: { autoRevert?: boolean; policy?: Partial<EscalationPolicy>; historyLimit?: number } = {}) {
  const clock = fakeClock(1_000);
  const actions = new FakeActions(clock);
  const policy: EscalationPolicy = { maxReverts: 5, windowMs: 600_000, maxRestarts: 3, ...options.policy };
  const coordinator = new RevertCoordinator(actions, new Escalation(policy, clock), log, {
    autoRevert: options.autoRevert ?? true,
    historyLimit: options.historyLimit,
    clock,
  });
  const states: CoordinatorState[] = [];
  const ignored: string[] = [];
  const failed: string[] = [];
  coordinator.on('state', (s) => states.push(s));
  coordinator.on('ignored', (_t, why) => ignored.push(why));
  coordinator.on('failed', (why) => failed.push(why));
  return { clock, actions, coordinator, states, ignored, failed };
}

const heartbeatTimeout: Trigger = { reason: 'heartbeat-timeout', detail: 'no heartbeat for 10000 ms', automatic: true };
const manual: Trigger = { reason: 'manual', detail: 'test', automatic: false };

test.describe('RevertCoordinator', () => {
  test('one trigger: one revert, a full record, back to monitoring', async () => {
    const { coordinator, actions, states } = setup();
    actions.actionMs = 750;
    const events: string[] = [];
    coordinator.on('revert-start', (t) => events.push(`start:${t.reason}`));
    coordinator.on('revert', (r) => events.push(`revert:${r.reason}`));
    const record = await coordinator.handle(heartbeatTimeout);
    expect(record).toBeDefined();
    expect(record!.reason).toBe('heartbeat-timeout');
    expect(record!.detail).toBe('no heartbeat for 10000 ms');
    expect(record!.method).toBe('in-place');
    expect(record!.durationMs).toBe(750);
    expect(record!.snapshot).toBe('ready');
    expect(record!.ok).toBe(true);
    expect(record!.error).toBeUndefined();
    expect(record!.screenBefore?.toString()).toBe('png-before');
    expect(Number.isNaN(Date.parse(record!.startedAt))).toBe(false);
    expect(actions.calls).toEqual(['screen', 'revert', 'afterRecovery']);
    expect(states).toEqual(['reverting', 'monitoring']);
    expect(events).toEqual(['start:heartbeat-timeout', 'revert:heartbeat-timeout']);
    expect(coordinator.state).toBe('monitoring');
    expect(coordinator.busy).toBe(false);
    expect(coordinator.reverts).toEqual([record]);
  });

  test('concurrent triggers give exactly one revert and share its record', async () => {
    const { coordinator, actions } = setup();
    const gate = deferred();
    actions.revertGate = gate.promise;
    const first = coordinator.handle(heartbeatTimeout);
    expect(coordinator.busy).toBe(true);
    expect(coordinator.state).toBe('reverting');
    const second = coordinator.handle({ reason: 'domain-paused', detail: 'paused (user)', automatic: true });
    const third = coordinator.handle(manual);
    gate.resolve();
    const [a, b, c] = await Promise.all([first, second, third]);
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(a!.reason).toBe('heartbeat-timeout');
    expect(actions.vmCalls).toEqual(['revert']);
    expect(coordinator.reverts).toHaveLength(1);
    expect(coordinator.busy).toBe(false);
  });

  test('auto-revert off: automatic triggers are ignored, manual ones still act', async () => {
    const { coordinator, actions, ignored } = setup({ autoRevert: false });
    expect(await coordinator.handle(heartbeatTimeout)).toBeUndefined();
    expect(await coordinator.handle({ reason: 'guest-panic', automatic: true })).toBeUndefined();
    expect(actions.calls).toEqual([]);
    expect(ignored).toEqual(['auto-revert is off', 'auto-revert is off']);
    expect(coordinator.state).toBe('monitoring');

    const record = await coordinator.handle(manual);
    expect(record?.reason).toBe('manual');
    expect(record?.ok).toBe(true);
    expect(actions.vmCalls).toEqual(['revert']);

    coordinator.autoRevert = true;
    expect((await coordinator.handle(heartbeatTimeout))?.reason).toBe('heartbeat-timeout');
    expect(actions.vmCalls).toEqual(['revert', 'revert']);
  });

  test('stop(): stopped, automatic triggers ignored; start() reverts and monitors again', async () => {
    const { coordinator, actions, ignored, states } = setup();
    await coordinator.stop();
    expect(coordinator.state).toBe('stopped');
    expect(actions.vmCalls).toEqual(['stop']);

    expect(await coordinator.handle({ reason: 'domain-shutoff', detail: 'shut off (destroyed)', automatic: true })).toBeUndefined();
    expect(await coordinator.handle(heartbeatTimeout)).toBeUndefined();
    expect(ignored).toEqual(['an operator stopped the VM', 'an operator stopped the VM']);
    expect(actions.vmCalls).toEqual(['stop']);

    const record = await coordinator.start();
    expect(record?.reason).toBe('manual');
    expect(record?.detail).toBe('operator start');
    expect(record?.ok).toBe(true);
    expect(actions.vmCalls).toEqual(['stop', 'revert']);
    expect(coordinator.state).toBe('monitoring');
    expect(states).toEqual(['stopped', 'reverting', 'monitoring']);

    // monitoring again: automatic triggers act
    expect((await coordinator.handle(heartbeatTimeout))?.reason).toBe('heartbeat-timeout');
    expect(actions.vmCalls).toEqual(['stop', 'revert', 'revert']);
  });

  test('stop() waits for a recovery under way before powering off', async () => {
    const { coordinator, actions } = setup();
    const gate = deferred();
    actions.revertGate = gate.promise;
    const recovery = coordinator.handle(heartbeatTimeout);
    const stopped = coordinator.stop();
    await flush();
    expect(actions.vmCalls).toEqual(['revert']);
    gate.resolve();
    await Promise.all([recovery, stopped]);
    expect(actions.vmCalls).toEqual(['revert', 'stop']);
    expect(coordinator.state).toBe('stopped');
  });

  test('a storm of automatic triggers: revert, revert, restart, restart, then failed, and no loop', async () => {
    const { coordinator, actions, states, failed, ignored } = setup({ policy: { maxReverts: 2, windowMs: 60_000, maxRestarts: 2 } });
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await coordinator.handle(heartbeatTimeout));
    expect(records.map((r) => r?.method)).toEqual(['in-place', 'in-place', 'restart', 'restart']);
    expect(actions.vmCalls).toEqual(['revert', 'revert', 'restart', 'restart']);
    expect(coordinator.state).toBe('monitoring');

    // The fifth fault: escalation gives up.
    expect(await coordinator.handle(heartbeatTimeout)).toBeUndefined();
    expect(coordinator.state).toBe('failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain('2 full restart(s)');

    // Further automatic triggers are ignored: nothing touches the VM, no more 'failed' events.
    for (let i = 0; i < 20; i++) expect(await coordinator.handle(heartbeatTimeout)).toBeUndefined();
    expect(actions.vmCalls).toEqual(['revert', 'revert', 'restart', 'restart']);
    expect(failed).toHaveLength(1);
    expect(ignored).toHaveLength(20);
    expect(ignored[0]).toContain('recovery failed for good');
    expect(coordinator.reverts).toHaveLength(4);
    expect(states.at(-1)).toBe('failed');
  });

  test('a restart that brings a healthy guest back ends the streak', async () => {
    const { coordinator, actions } = setup({ policy: { maxReverts: 1, windowMs: 60_000, maxRestarts: 1 } });
    await coordinator.handle(heartbeatTimeout); // revert
    await coordinator.handle(heartbeatTimeout); // restart
    coordinator.recovered();
    await coordinator.handle(heartbeatTimeout); // revert again, not give-up
    expect(actions.vmCalls).toEqual(['revert', 'restart', 'revert']);
    expect(coordinator.state).toBe('monitoring');
  });

  test('reverts older than the window do not escalate', async () => {
    const { coordinator, actions, clock } = setup({ policy: { maxReverts: 2, windowMs: 60_000, maxRestarts: 2 } });
    for (let i = 0; i < 6; i++) {
      await coordinator.handle(heartbeatTimeout);
      clock.advance(31_000);
    }
    expect(actions.vmCalls).toEqual(['revert', 'revert', 'revert', 'revert', 'revert', 'revert']);
  });

  test('rearm() after failed: monitoring again, escalation starts over', async () => {
    const { coordinator, actions } = setup({ policy: { maxReverts: 1, windowMs: 60_000, maxRestarts: 1 } });
    await coordinator.handle(heartbeatTimeout); // revert
    await coordinator.handle(heartbeatTimeout); // restart
    await coordinator.handle(heartbeatTimeout); // give up
    expect(coordinator.state).toBe('failed');
    coordinator.rearm();
    expect(coordinator.state).toBe('monitoring');
    const record = await coordinator.handle(heartbeatTimeout);
    expect(record?.method).toBe('in-place');
    expect(actions.vmCalls).toEqual(['revert', 'restart', 'revert']);
  });

  test('rearm() does nothing unless failed', async () => {
    const { coordinator } = setup();
    coordinator.rearm();
    expect(coordinator.state).toBe('monitoring');
    await coordinator.stop();
    coordinator.rearm();
    expect(coordinator.state).toBe('stopped');
  });

  test('a manual revert acts after failed and clears the escalation', async () => {
    const { coordinator, actions } = setup({ policy: { maxReverts: 1, windowMs: 60_000, maxRestarts: 1 } });
    await coordinator.handle(heartbeatTimeout);
    await coordinator.handle(heartbeatTimeout);
    await coordinator.handle(heartbeatTimeout);
    expect(coordinator.state).toBe('failed');
    const record = await coordinator.handle(manual);
    expect(record?.method).toBe('in-place');
    expect(coordinator.state).toBe('monitoring');
    expect(actions.vmCalls).toEqual(['revert', 'restart', 'revert']);
  });

  test('a failed revert records ok:false with the error and returns to monitoring', async () => {
    const { coordinator, actions, states } = setup();
    actions.revertError = new Error('virsh timed out');
    actions.actionMs = 120;
    const record = await coordinator.handle(heartbeatTimeout);
    expect(record).toBeDefined();
    expect(record!.ok).toBe(false);
    expect(record!.error).toBe('virsh timed out');
    expect(record!.method).toBe('in-place');
    expect(record!.durationMs).toBe(120);
    expect(actions.calls).not.toContain('afterRecovery');
    expect(coordinator.state).toBe('monitoring');
    expect(states).toEqual(['reverting', 'monitoring']);
    expect(coordinator.busy).toBe(false);

    actions.revertError = undefined;
    const next = await coordinator.handle(heartbeatTimeout);
    expect(next?.ok).toBe(true);
    expect(coordinator.reverts.map((r) => r.ok)).toEqual([false, true]);
  });

  test('a failed recovery records the method it was carrying out', async () => {
    const { coordinator, actions } = setup();
    actions.revertError = new RevertFailure('restart', new Error('process exited while connecting to monitor'));
    const record = await coordinator.handle(heartbeatTimeout);
    expect(record).toMatchObject({ ok: false, method: 'restart', error: 'process exited while connecting to monitor' });
  });

  test('a failing screen grab does not stop the revert', async () => {
    const { coordinator, actions } = setup();
    actions.screen = async () => {
      throw new Error('no VNC');
    };
    const record = await coordinator.handle(heartbeatTimeout);
    expect(record?.ok).toBe(true);
    expect(record?.screenBefore).toBeUndefined();
  });

  test('history records carry reason, detail, method, durationMs and snapshot; the limit keeps the newest', async () => {
    const { coordinator, actions } = setup({ historyLimit: 3, policy: { maxReverts: 100 } });
    actions.snapshot = 'ready.staged';
    const reasons: Trigger['reason'][] = ['heartbeat-timeout', 'idle-timeout', 'guest-request', 'domain-crashed', 'guest-panic'];
    for (const [i, reason] of reasons.entries()) {
      actions.actionMs = 100 * (i + 1);
      await coordinator.handle({ reason, detail: `#${i}`, automatic: true });
    }
    expect(coordinator.reverts).toHaveLength(3);
    // The count goes on past the kept history (the status and the page show it).
    expect(coordinator.total).toBe(5);
    expect(coordinator.reverts.map((r) => ({ reason: r.reason, detail: r.detail, method: r.method, durationMs: r.durationMs, snapshot: r.snapshot }))).toEqual([
      { reason: 'guest-request', detail: '#2', method: 'in-place', durationMs: 300, snapshot: 'ready.staged' },
      { reason: 'domain-crashed', detail: '#3', method: 'in-place', durationMs: 400, snapshot: 'ready.staged' },
      { reason: 'guest-panic', detail: '#4', method: 'in-place', durationMs: 500, snapshot: 'ready.staged' },
    ]);
  });

  test('close(): closed, every trigger ignored, waits for the recovery under way', async () => {
    const { coordinator, actions, ignored } = setup();
    const gate = deferred();
    actions.revertGate = gate.promise;
    const recovery = coordinator.handle(heartbeatTimeout);
    let closed = false;
    const closing = coordinator.close().then(() => (closed = true));
    expect(coordinator.state).toBe('closed');
    await flush();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect((await recovery)?.ok).toBe(true);
    expect(coordinator.state).toBe('closed'); // the finished recovery does not reopen it

    expect(await coordinator.handle(heartbeatTimeout)).toBeUndefined();
    expect(await coordinator.handle(manual)).toBeUndefined();
    expect(await coordinator.start()).toBeUndefined();
    expect(ignored).toEqual(['the watchdog is closed', 'the watchdog is closed', 'the watchdog is closed']);
    expect(actions.vmCalls).toEqual(['revert']);
  });
});

test.describe('triggerForState', () => {
  const table: [string, string, Trigger['reason'] | undefined][] = [
    ['paused', 'user', 'domain-paused'],
    ['paused', 'snapshot', undefined],
    ['paused', 'saving', undefined],
    ['paused', 'starting up', undefined],
    ['paused', 'migrating', undefined],
    ['paused', 'panicked', 'guest-panic'],
    ['pmsuspended', 'unknown', 'domain-paused'],
    ['crashed', 'panicked', 'guest-panic'],
    ['crashed', 'unknown', 'domain-crashed'],
    ['shut off', 'crashed', 'domain-crashed'],
    ['shut off', 'destroyed', 'domain-shutoff'],
    ['shut off', 'shutdown', 'domain-shutoff'],
    ['running', 'booted', undefined],
    ['running', 'unpaused', undefined],
    ['in shutdown', 'user', undefined],
    ['unknown', '', undefined],
  ];
  for (const [state, reason, expected] of table) {
    test(`(${JSON.stringify(state)}, ${JSON.stringify(reason)}) → ${expected ?? 'nothing'}`, () => {
      const trigger = triggerForState(state, reason);
      if (expected === undefined) {
        expect(trigger).toBeUndefined();
        return;
      }
      expect(trigger).toEqual({ reason: expected, detail: `${state} (${reason})`, automatic: true });
    });
  }

  test('the detail is the bare state when libvirt gives no reason', () => {
    expect(triggerForState('crashed', '')).toEqual({ reason: 'domain-crashed', detail: 'crashed', automatic: true });
  });
});

test.describe('DomainMonitor', () => {
  /** A monitor of a domain that reads the given states, one per poll, 2 s apart. */
  const monitorOf = (...states: [string, string][]) => {
    let polled = 0;
    return new DomainMonitor(scriptedDomain(...states).domain, 1_000, log, () => 2_000 * polled++);
  };
  const polls = async (monitor: DomainMonitor, n: number) => {
    const reasons: (string | undefined)[] = [];
    for (let i = 0; i < n; i++) reasons.push((await monitor.poll())?.reason);
    return reasons;
  };

  test('a panic passes through "paused (unknown)", for longer than a poll on a loaded host: that is not taken for a plain pause', async () => {
    const monitor = monitorOf(['paused', 'unknown'], ['paused', 'unknown'], ['paused', 'panicked']);
    expect(await polls(monitor, 3)).toEqual([undefined, undefined, 'guest-panic']);
  });

  test('a pause without a reason that lasts 5 s is a fault; one that ends is not', async () => {
    const paused: [string, string] = ['paused', 'unknown'];
    expect(await polls(monitorOf(paused, paused, paused, paused, paused), 5)).toEqual([undefined, undefined, undefined, 'domain-paused', 'domain-paused']);
    expect(await polls(monitorOf(['paused', ''], ['paused', ''], ['running', 'unpaused'], ['paused', ''], ['paused', ''], ['paused', '']), 6)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('a pause whose reason is known counts at once', async () => {
    expect(await polls(monitorOf(['paused', 'user'], ['paused', 'ioerror']), 2)).toEqual(['domain-paused', 'domain-paused']);
  });
});
