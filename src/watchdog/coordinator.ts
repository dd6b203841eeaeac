import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { now as monotonic, type Clock } from '../timeouts.js';
import type { Escalation } from './escalation.js';
import { RevertFailure } from './errors.js';
import { canMove, type CoordinatorState } from './states.js';
import type { RevertMethod, RevertRecord, Trigger } from './triggers.js';

/** What the coordinator needs done to the VM. Each call has its own timeouts and never hangs. */
export interface RecoveryActions {
  /** Bring the running (or paused, or panicked) VM back to the snapshot; returns the method used. */
  revert(): Promise<RevertMethod>;
  /** Destroy the VM, then revert from shut off. */
  restart(): Promise<RevertMethod>;
  /** Power the VM off (an operator's stop). */
  stop(): Promise<void>;
  /** A PNG of the screen now, when one can be had quickly. */
  screen(): Promise<Buffer | undefined>;
  /** Called after every successful recovery, before monitoring resumes. */
  afterRecovery(): void;
  snapshotName(): string;
}

export interface CoordinatorEvents {
  state: [CoordinatorState];
  'revert-start': [Trigger];
  revert: [RevertRecord];
  ignored: [Trigger, string];
  failed: [string];
}

/**
 * Decides whether a trigger becomes a recovery, runs one recovery at a time (concurrent
 * triggers join it), escalates from revert to restart to `failed`, and logs each decision
 * with its reason. Operator actions (stop, start, manual revert) are serialized with it.
 */
export class RevertCoordinator extends EventEmitter<CoordinatorEvents> {
  private current: CoordinatorState = 'monitoring';
  private running?: Promise<RevertRecord | undefined>;
  private operator: Promise<unknown> = Promise.resolve();
  readonly reverts: RevertRecord[] = [];
  autoRevert: boolean;

  constructor(
    private readonly actions: RecoveryActions,
    private readonly escalation: Escalation,
    private readonly log: Logger,
    options: { autoRevert: boolean; historyLimit?: number; clock?: Clock },
  ) {
    super();
    this.autoRevert = options.autoRevert;
    this.historyLimit = options.historyLimit ?? 1000;
    this.clock = options.clock ?? monotonic;
  }
  private readonly historyLimit: number;
  private readonly clock: Clock;

  get state(): CoordinatorState {
    return this.current;
  }

  /** Is a recovery under way? */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Act on a trigger. Resolves with the recovery it caused or joined, or undefined when it was ignored. */
  handle(trigger: Trigger): Promise<RevertRecord | undefined> {
    const refusal = this.refusal(trigger);
    if (refusal) {
      this.log.info('decision', { decision: 'ignore', reason: trigger.reason, detail: trigger.detail, why: refusal, state: this.current });
      this.emit('ignored', trigger, refusal);
      return Promise.resolve(undefined);
    }
    if (this.running) {
      this.log.info('decision', { decision: 'join', reason: trigger.reason, detail: trigger.detail, why: 'a recovery is already under way' });
      return this.running;
    }
    const run = this.recover(trigger);
    this.running = run.finally(() => (this.running = undefined));
    return this.running;
  }

  /** An operator's stop: the VM is powered off and stays off until start() or a manual revert. */
  stop(): Promise<void> {
    return this.serialize(async () => {
      await this.running?.catch(() => undefined);
      this.move('stopped', 'operator stop');
      await this.actions.stop();
    });
  }

  /** An operator's start: back to the snapshot, monitoring again. */
  start(): Promise<RevertRecord | undefined> {
    return this.serialize(async () => {
      await this.running?.catch(() => undefined);
      return this.handle({ reason: 'manual', detail: 'operator start', automatic: false });
    });
  }

  /** Re-arm after `failed` without touching the VM (auto-revert switched on again). A stop stays until start(). */
  rearm(): void {
    if (this.current === 'failed') {
      this.escalation.clear();
      this.move('monitoring', 'operator re-armed recovery');
    }
  }

  /** The guest is healthy again after the last recovery: a restart streak ends. */
  recovered(): void {
    this.escalation.recovered();
  }

  close(): Promise<void> {
    this.move('closed', 'watchdog closed');
    return (this.running ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
  }

  private refusal(trigger: Trigger): string | undefined {
    if (this.current === 'closed') return 'the watchdog is closed';
    if (!trigger.automatic) return undefined;
    if (!this.autoRevert) return 'auto-revert is off';
    if (this.current === 'stopped') return 'an operator stopped the VM';
    if (this.current === 'failed') return 'recovery failed for good: waiting for an operator';
    return undefined;
  }

  private async recover(trigger: Trigger): Promise<RevertRecord | undefined> {
    if (!trigger.automatic) this.escalation.clear();
    const step = this.escalation.next();
    if (step === 'give-up') {
      const why = `${this.escalation.policy.maxRestarts} full restart(s) in a row did not bring a healthy guest back`;
      this.move('failed', why);
      this.log.error('recovery failed: giving up until an operator acts', { reason: trigger.reason, detail: trigger.detail, why });
      this.emit('failed', why);
      return undefined;
    }
    this.log.info('decision', {
      decision: step,
      reason: trigger.reason,
      detail: trigger.detail,
      why: step === 'restart' ? `${this.escalation.recentReverts} reverts within ${this.escalation.policy.windowMs} ms` : 'trigger accepted',
    });
    this.move('reverting', trigger.reason);
    this.emit('revert-start', trigger);
    const screenBefore = await this.actions.screen().catch(() => undefined);
    const startedAt = new Date().toISOString();
    const t0 = this.clock();
    let method: RevertMethod = step === 'restart' ? 'restart' : 'in-place';
    let error: string | undefined;
    try {
      method = step === 'restart' ? await this.actions.restart() : await this.actions.revert();
    } catch (e) {
      error = (e as Error).message;
      if (e instanceof RevertFailure) method = e.method;
    }
    const durationMs = Math.round(this.clock() - t0);
    this.escalation.recorded(step);
    if (!error) this.actions.afterRecovery();
    const record: RevertRecord = {
      reason: trigger.reason,
      detail: trigger.detail,
      startedAt,
      durationMs,
      method,
      snapshot: this.actions.snapshotName(),
      ok: !error,
      error,
      screenBefore,
    };
    if (this.current === 'reverting')
      this.move('monitoring', error ? 'recovery failed; the next fault tries again (and counts towards escalation)' : 'recovered');
    if (error) this.log.error('revert failed', { reason: trigger.reason, method, durationMs, error });
    else this.log.info('reverted', { reason: trigger.reason, method, durationMs });
    this.remember(record);
    this.emit('revert', record);
    return record;
  }

  /** Every recovery since the start, also those no longer in `reverts`. */
  total = 0;

  private remember(record: RevertRecord): void {
    this.total++;
    this.reverts.push(record);
    if (this.reverts.length > this.historyLimit) this.reverts.splice(0, this.reverts.length - this.historyLimit);
  }

  private move(to: CoordinatorState, why: string): void {
    if (this.current === to) return;
    if (!canMove(this.current, to)) {
      this.log.debug('transition refused', { from: this.current, to, why });
      return;
    }
    this.log.info('state', { from: this.current, to, why });
    this.current = to;
    this.emit('state', to);
  }

  private serialize<T>(body: () => Promise<T>): Promise<T> {
    const run = this.operator.then(body, body);
    this.operator = run.catch(() => undefined);
    return run;
  }
}
