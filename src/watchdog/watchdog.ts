import { EventEmitter } from 'node:events';
import type { Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { Deadline, now as monotonicNow, sleep } from '../timeouts.js';
import { RevertCoordinator } from './coordinator.js';
import { DomainMonitor } from './domain-monitor.js';
import { Escalation } from './escalation.js';
import { WatchdogError } from './errors.js';
import type { GuestMessage, GuestVia } from './guest-messages.js';
import { Heartbeat } from './heartbeat.js';
import { ApiServers } from './http/servers.js';
import { IdleTimer } from './idle.js';
import { WatchdogMetrics } from './metrics.js';
import { resolveWatchdogOptions, type ResolvedWatchdogOptions, type WatchdogOptions } from './options.js';
import { Reverter } from './reverter.js';
import { SerialChannel } from './serial-channel.js';
import { SnapshotStore } from './snapshots.js';
import type { HeartbeatStatus, WatchdogState, WatchdogStatus } from './status.js';
import type { RevertRecord, Trigger } from './triggers.js';

/** What the watchdog needs of a VM. The demo layer's Vm provides it. */
export interface WatchedVm {
  readonly name: string;
  readonly domain: Domain;
  /** Host ends of the guest's channels (unix sockets), as booted. */
  readonly channels: { apiSocket?: string; api?: { address: string; port: number }; messageSocket?: string };
  /** A PNG of the screen now, from a mirror that is already there (must be quick). */
  screenshot?(): Promise<Buffer>;
  /** Asks for every pixel of the screen again: after a revert in place its mirror holds the old picture until the guest draws. */
  refreshScreen?(): Promise<void>;
}

export interface WatchdogEvents {
  state: [WatchdogState];
  heartbeat: [GuestVia];
  'revert-start': [Trigger];
  revert: [RevertRecord];
  /** The guest is healthy again after this revert. */
  recovered: [RevertRecord];
  failed: [string];
  message: [GuestMessage, GuestVia];
  close: [];
}

/**
 * Watches one running VM: heartbeats (HTTP or serial), the idle timer, the domain's state and
 * kernel panics, and brings the VM back to a known-good snapshot when any of them says so.
 * Start it with `vm.watchdog(options)`; close it with `close()` or `await using`.
 */
export class Watchdog extends EventEmitter<WatchdogEvents> implements AsyncDisposable {
  readonly options: ResolvedWatchdogOptions;
  private readonly heartbeat: Heartbeat;
  private readonly idle: IdleTimer;
  private readonly coordinator: RevertCoordinator;
  private readonly monitor: DomainMonitor;
  private readonly store: SnapshotStore;
  private readonly metrics: WatchdogMetrics;
  private serial?: SerialChannel;
  private servers?: ApiServers;
  private timer?: NodeJS.Timeout;
  /** The check at the heartbeat's deadline (checkAtHeartbeatDeadline). */
  private deadlineTimer?: NodeJS.Timeout;
  private snapshotExists = false;
  private lastGuestRequest = -Infinity;
  private awaitingRecovery?: RevertRecord;
  private lastState?: WatchdogState;
  private closing?: Promise<void>;
  /** Snapshot saves under way: the VM is paused by QEMU meanwhile, which is not a fault. */
  private saving = 0;

  private constructor(
    readonly vm: WatchedVm,
    options: ResolvedWatchdogOptions,
    private readonly log: Logger,
  ) {
    super();
    this.options = options;
    this.heartbeat = new Heartbeat(options.heartbeatTimeout || Number.MAX_SAFE_INTEGER);
    this.idle = new IdleTimer(options.idleTimeout);
    this.store = new SnapshotStore(vm.domain, log.child('snapshots'), options.timeouts.revertMs);
    this.monitor = new DomainMonitor(vm.domain, options.timeouts.probeMs, log.child('domain'));
    const reverter = new Reverter(vm.domain, () => this.store.target(options.snapshot), options.revertMethod, options.timeouts, log.child('revert'));
    this.coordinator = new RevertCoordinator(
      {
        revert: async () => {
          const method = await reverter.revert();
          // For every reader of the screen (the report's after picture, matchers, recordings), not only this watchdog.
          if (method === 'in-place')
            await vm.refreshScreen?.().catch((e: Error) => log.debug('could not refresh the screen after the revert', { error: e.message }));
          return method;
        },
        restart: () => reverter.restart(),
        stop: () => reverter.stop(),
        screen: () => this.screen(),
        afterRecovery: () => {
          this.heartbeat.restart(options.grace);
          this.idle.restart();
        },
        snapshotName: () => this.store.target(options.snapshot),
      },
      new Escalation(options.escalation),
      log.child('coordinator'),
      { autoRevert: options.autoRevert },
    );
    this.coordinator.on('revert-start', (t) => this.emit('revert-start', t));
    this.coordinator.on('revert', (r) => this.onRevert(r));
    this.metrics = new WatchdogMetrics(this);
    this.coordinator.on('failed', (why) => this.emit('failed', why));
    this.coordinator.on('state', () => this.publishState());
  }

  /** Start watching `vm`. Options are checked before anything is touched. */
  static async start(vm: WatchedVm, options: WatchdogOptions, log: Logger): Promise<Watchdog> {
    const resolved = resolveWatchdogOptions(options);
    const watchdog = new Watchdog(vm, resolved, log);
    try {
      await watchdog.prepareSnapshot();
      await watchdog.listen();
    } catch (e) {
      await watchdog.close();
      throw e;
    }
    watchdog.timer = setInterval(() => watchdog.tick(), resolved.checkInterval);
    watchdog.timer.unref?.();
    log.info('watching', {
      vm: vm.name,
      snapshot: resolved.snapshot,
      heartbeatTimeout: resolved.heartbeatTimeout,
      idleTimeout: resolved.idleTimeout,
      api: watchdog.url,
      guest: watchdog.guestUrl,
      serial: !!vm.channels.messageSocket,
    });
    return watchdog;
  }

  // ---- what users read ---------------------------------------------------------------

  /** The control API's base URL (http://127.0.0.1:PORT), or undefined with `api: false`. */
  get url(): string | undefined {
    return this.servers?.controlUrl;
  }

  /** The URL the guest calls, as the guest sees it (http://192.168.122.1:8000), when the VM has the HTTP channel. */
  get guestUrl(): string | undefined {
    const api = this.vm.channels.api;
    return api && this.vm.channels.apiSocket ? `http://${api.address}:${api.port}` : undefined;
  }

  get state(): WatchdogState {
    if (this.closing) return 'closed';
    const s = this.coordinator.state;
    if (s !== 'monitoring') return s;
    if (this.options.heartbeatTimeout === 0) return 'watching';
    return this.heartbeat.state;
  }

  /** The recoveries so far, oldest first: the newest 1000 (`status().reverts` counts them all); the newest 20 keep their screens. */
  get reverts(): readonly RevertRecord[] {
    return this.coordinator.reverts;
  }

  get autoRevert(): boolean {
    return this.coordinator.autoRevert;
  }

  status(): WatchdogStatus {
    const last = this.reverts.at(-1);
    const vmState = this.monitor.last;
    return {
      vm_name: this.vm.name,
      vm_state: vmState.state,
      vm_is_running: vmState.state === 'running',
      snapshot_name: this.options.snapshot,
      snapshot_exists: this.snapshotExists,
      heartbeat: this.heartbeatStatus(),
      auto_revert_enabled: this.coordinator.autoRevert,
      state: this.state,
      vm_state_reason: vmState.reason,
      idle: { enabled: this.idle.enabled, timeout: this.options.idleTimeout / 1000, idle_seconds: round(this.idle.idleMs / 1000) },
      reverts: this.coordinator.total,
      last_revert: last
        ? { reason: last.reason, detail: last.detail, started_at: last.startedAt, duration_ms: last.durationMs, method: last.method, ok: last.ok }
        : null,
      guest: { http: this.guestUrl ?? null, serial: !!this.serial?.connected, heartbeats: this.heartbeat.count },
    };
  }

  heartbeatStatus(): HeartbeatStatus {
    return {
      enabled: this.coordinator.autoRevert && this.options.heartbeatTimeout > 0,
      timeout: this.options.heartbeatTimeout / 1000,
      last_heartbeat: this.heartbeat.lastBeatEpoch,
      time_since_heartbeat: round(this.heartbeat.ageMs / 1000),
      is_timed_out: this.options.heartbeatTimeout > 0 && this.heartbeat.state === 'timed-out',
      has_received_heartbeat: this.heartbeat.count > 0,
    };
  }

  // ---- what the guest says -------------------------------------------------------------

  /** A message from the guest. Revert requests answer whether they were taken. */
  receive(message: GuestMessage, via: GuestVia): { accepted: boolean; why?: string } {
    this.emit('message', message, via);
    switch (message.kind) {
      case 'heartbeat':
        this.heartbeat.beat();
        this.checkAtHeartbeatDeadline();
        this.emit('heartbeat', via);
        this.checkRecovered();
        return { accepted: true };
      case 'idle-reset':
        this.idle.reset((message.idleSeconds ?? 0) * 1000);
        return { accepted: true };
      case 'revert-request':
        return this.guestRevertRequest(message.reason, message.severity, via);
    }
  }

  private guestRevertRequest(reason: string | undefined, severity: string | undefined, via: GuestVia): { accepted: boolean; why?: string } {
    const now = monotonicNow();
    if (this.coordinator.busy) return { accepted: true, why: 'a recovery is already under way' };
    if (now - this.lastGuestRequest < this.options.guestRequestInterval) {
      const why = `the guest asked again within ${this.options.guestRequestInterval} ms`;
      this.log.warn('guest revert request refused', { reason, why });
      return { accepted: false, why };
    }
    if (!this.coordinator.autoRevert) return { accepted: false, why: 'auto-revert is off' };
    const state = this.coordinator.state;
    if (state === 'stopped' || state === 'failed' || state === 'closed') return { accepted: false, why: `the watchdog is ${state}` };
    this.lastGuestRequest = now;
    const detail = [reason, severity && `severity ${severity}`, `via ${via}`].filter(Boolean).join('; ');
    void this.coordinator.handle({ reason: 'guest-request', detail, automatic: true });
    return { accepted: true };
  }

  // ---- what operators do ---------------------------------------------------------------

  /** Revert now (an operator's or a test's request: obeyed even with auto-revert off). */
  async revert(detail = 'requested'): Promise<RevertRecord> {
    const record = await this.coordinator.handle({ reason: 'manual', detail, automatic: false });
    if (!record) throw new WatchdogError('EWATCHDOGCLOSED', 'the watchdog is closed');
    if (!record.ok) throw new WatchdogError('EREVERT', `revert to ${record.snapshot} failed: ${record.error}`);
    return record;
  }

  /** Power the VM off; it stays off (no recovery) until start() or revert(). */
  stop(): Promise<void> {
    return this.coordinator.stop();
  }

  /** Bring a stopped VM back: revert to the snapshot, running. */
  async start(): Promise<RevertRecord> {
    const record = await this.coordinator.start();
    if (!record?.ok) throw new WatchdogError('EREVERT', `starting from ${this.options.snapshot} failed: ${record?.error ?? 'watchdog closed'}`);
    return record;
  }

  setAutoRevert(on: boolean): void {
    this.coordinator.autoRevert = on;
    if (on) this.coordinator.rearm();
    this.log.info('auto-revert', { enabled: on });
    this.publishState();
  }

  snapshots(): Promise<string[]> {
    return this.store.list().then((list) => list.map((s) => s.name));
  }

  /** Take (or replace) a snapshot of the running VM. The heartbeat is not judged meanwhile. */
  async createSnapshot(name = this.options.snapshot): Promise<void> {
    this.heartbeat.pause('snapshot');
    this.saving++;
    try {
      await this.store.create(name, `demotool watchdog snapshot of ${this.vm.name}`);
    } finally {
      this.saving--;
      this.heartbeat.resume('snapshot');
    }
    if (name === this.options.snapshot) this.snapshotExists = true;
  }

  async deleteSnapshot(name: string): Promise<void> {
    if (name === this.options.snapshot)
      throw new WatchdogError(
        'ESNAPSHOTINUSE',
        `snapshot ${JSON.stringify(name)} is the one recoveries return to`,
        'replace it with snapshot/create instead, or close the watchdog first',
      );
    await this.store.delete(name);
    if (name === this.options.snapshot) this.snapshotExists = false;
  }

  /** Wait until `predicate` holds, checking on every watchdog event and tick. */
  async waitFor<T>(predicate: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = new Deadline(timeoutMs, 'the watchdog condition');
    for (;;) {
      const value = predicate();
      if (value !== undefined) return value;
      if (deadline.expired() || this.closing) return undefined;
      await sleep(Math.min(100, Math.max(1, deadline.remaining())));
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      clearTimeout(this.deadlineTimer);
      await this.coordinator.close();
      await this.serial?.close();
      await this.servers?.close();
      this.publishState();
      this.log.info('closed', { vm: this.vm.name, reverts: this.reverts.length });
      this.emit('close');
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- inside ---------------------------------------------------------------------------

  private async prepareSnapshot(): Promise<void> {
    const { snapshot, takeSnapshot } = this.options;
    const exists = await this.store.exists(snapshot);
    if (!exists && takeSnapshot === 'never')
      throw new WatchdogError(
        'ENOSNAPSHOT',
        `VM ${this.vm.name} has no snapshot ${JSON.stringify(snapshot)} to revert to`,
        "take it first (vm.snapshot('ready')), or use takeSnapshot: 'if-missing'",
      );
    if (!exists || takeSnapshot === 'always') await this.createSnapshot(snapshot);
    else this.snapshotExists = true;
  }

  private async listen(): Promise<void> {
    const { channels } = this.vm;
    this.servers = await ApiServers.start({
      watchdog: this,
      guestSocket: channels.apiSocket,
      control: this.options.api,
      metrics: this.metrics,
      log: this.log.child('api'),
    });
    if (channels.messageSocket) this.serial = new SerialChannel(channels.messageSocket, (m) => this.receive(m, 'serial'), this.log.child('serial'));
  }

  /**
   * One extra check just after the moment the heartbeat would time out, re-armed at every beat:
   * a guest that stopped beating is caught on time rather than up to one check interval late.
   */
  private checkAtHeartbeatDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const due = this.heartbeat.msUntilTimeout;
    if (this.options.heartbeatTimeout <= 0 || due === undefined || this.closing) return;
    this.deadlineTimer = setTimeout(() => this.tick(), due + 1);
    this.deadlineTimer.unref?.();
  }

  private tick(): void {
    if (this.closing) return;
    void this.monitor.poll().then((trigger) => {
      if (trigger && this.coordinator.state === 'monitoring' && !this.coordinator.busy && this.saving === 0) this.fault(trigger);
    });
    if (this.coordinator.state !== 'monitoring' || this.coordinator.busy || this.saving > 0) return this.publishState();
    if (this.options.heartbeatTimeout > 0 && this.heartbeat.state === 'timed-out')
      this.fault({ reason: 'heartbeat-timeout', detail: `no heartbeat for ${Math.round(this.heartbeat.ageMs)} ms`, automatic: true });
    else if (this.idle.expired)
      this.fault({ reason: 'idle-timeout', detail: `no user activity for ${Math.round(this.idle.idleMs / 1000)} s`, automatic: true });
    this.publishState();
  }

  /** A detected fault: ignored ones are logged once per reason, not at every tick. */
  private ignoredReason?: string;
  private fault(trigger: Trigger): void {
    if (!this.coordinator.autoRevert) {
      if (this.ignoredReason !== trigger.reason) void this.coordinator.handle(trigger);
      this.ignoredReason = trigger.reason;
      return;
    }
    this.ignoredReason = undefined;
    void this.coordinator.handle(trigger);
  }

  private onRevert(record: RevertRecord): void {
    this.metrics.revert(record);
    // A screen per recovery, kept for months, would grow without end: only the newest keep theirs.
    for (const old of this.reverts.slice(0, -SCREENS_KEPT)) {
      old.screenBefore = undefined;
      old.screenAfter = undefined;
    }
    this.emit('revert', record);
    if (!record.ok) return;
    // Without heartbeats a successful revert is all there is to wait for.
    if (this.options.heartbeatTimeout === 0) void this.markRecovered(record);
    else this.awaitingRecovery = record;
  }

  private checkRecovered(): void {
    const record = this.awaitingRecovery;
    if (!record || this.coordinator.busy) return;
    this.awaitingRecovery = undefined;
    void this.markRecovered(record);
  }

  private async markRecovered(record: RevertRecord): Promise<void> {
    this.coordinator.recovered();
    // The screen first: whoever waits for recoveredAt (toHaveRecovered) then finds it attached.
    record.screenAfter = await this.screen();
    record.recoveredAt = new Date().toISOString();
    this.log.info('recovered', { reason: record.reason, method: record.method, durationMs: record.durationMs });
    this.emit('recovered', record);
  }

  private screen(): Promise<Buffer | undefined> {
    return this.vm.screenshot ? this.vm.screenshot().catch(() => undefined) : Promise.resolve(undefined);
  }

  private publishState(): void {
    const state = this.state;
    if (state === this.lastState) return;
    this.lastState = state;
    this.emit('state', state);
  }
}

/** Recoveries that keep their screens (toHaveRecovered attaches them); older ones drop them. */
const SCREENS_KEPT = 20;

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
