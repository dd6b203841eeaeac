import { UsageError } from '../errors.js';
import { MAX_TIMER_MS } from '../timeouts.js';
import { checkSnapshotName } from '../libvirt/index.js';
import type { EscalationPolicy } from './escalation.js';
import { DEFAULT_REVERT_TIMEOUTS, type RevertMethodOption, type RevertTimeouts } from './reverter.js';

/** Where the control API listens. Without a token it may only listen on loopback. */
export interface ControlApiOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (read it from `watchdog.url`). */
  port?: number;
  /** Bearer token required for every action (not for status, heartbeats or the docs). */
  token?: string;
}

export interface WatchdogOptions {
  /** The known-good snapshot recoveries return to. Default 'ready'. */
  snapshot?: string;
  /** 'if-missing' (default): take the snapshot now when the VM has none; 'always': replace it now; 'never': it must exist. */
  takeSnapshot?: 'if-missing' | 'always' | 'never';
  /** No heartbeat for this long (ms) is a fault. Default 10 000; 0: heartbeats are not judged. */
  heartbeatTimeout?: number;
  /** No user activity reported for this long (ms) is a fault. Default 12 minutes; 0: off. */
  idleTimeout?: number;
  /** After each recovery, the heartbeat is not judged for this long (ms). Default 5 000. */
  grace?: number;
  /** How often (ms) the heartbeat, the idle timer and the domain state are checked. Default 500, at most 500. */
  checkInterval?: number;
  /** Recover automatically (default true). When false, faults are logged and nothing reverts. */
  autoRevert?: boolean;
  /** 'in-place' (default): QEMU's loadvm, under a second, VNC stays; 'snapshot-revert': libvirt's, QEMU restarts. */
  revertMethod?: RevertMethodOption;
  /** From reverts to full restarts to `failed`. Default: 5 reverts in 10 minutes, then up to 3 restarts. */
  escalation?: Partial<EscalationPolicy>;
  /** A guest's revert requests closer together than this (ms) are refused with 429. Default 10 000. */
  guestRequestInterval?: number;
  /** The control API on the host; false: none. Default { host: '127.0.0.1', port: 0 }. */
  api?: ControlApiOptions | false;
  /** Bounds on libvirt calls during a recovery. */
  timeouts?: Partial<RevertTimeouts>;
}

export interface ResolvedWatchdogOptions {
  snapshot: string;
  takeSnapshot: 'if-missing' | 'always' | 'never';
  heartbeatTimeout: number;
  idleTimeout: number;
  grace: number;
  checkInterval: number;
  autoRevert: boolean;
  revertMethod: RevertMethodOption;
  escalation: EscalationPolicy;
  guestRequestInterval: number;
  api: Required<Omit<ControlApiOptions, 'token'>> & { token?: string } | false;
  timeouts: RevertTimeouts;
}

const KNOWN = new Set([
  'snapshot', 'takeSnapshot', 'heartbeatTimeout', 'idleTimeout', 'grace', 'checkInterval', 'autoRevert', 'revertMethod',
  'escalation', 'guestRequestInterval', 'api', 'timeouts',
]);

function duration(name: string, value: unknown, fallback: number, { allowZero = true, max = MAX_TIMER_MS } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > max)
    throw new UsageError(
      `watchdog option ${name} must be a number of milliseconds${allowZero ? '' : ' above 0'} up to ${max}, not ${JSON.stringify(value)}`,
      allowZero ? '0 switches it off' : undefined,
    );
  return Math.round(value);
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) throw new UsageError(`watchdog option ${name} must be a whole number ≥ 1, not ${JSON.stringify(value)}`);
  return value as number;
}

/** A nested option group: an object (or undefined) whose keys are all known. */
function group<T extends object>(name: string, value: T | undefined, known: readonly string[]): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`watchdog option ${name} must be an object${name === 'api' ? ' or false' : ''}, not ${JSON.stringify(value)}`);
  for (const key of Object.keys(value))
    if (!known.includes(key)) throw new UsageError(`unknown watchdog option ${JSON.stringify(`${name}.${key}`)}`, `known ${name} options: ${known.join(', ')}`);
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function controlApi(api: WatchdogOptions['api']): ResolvedWatchdogOptions['api'] {
  if (api === false) return false;
  const o = group('api', api, ['host', 'port', 'token']);
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 0;
  if (typeof host !== 'string' || !host) throw new UsageError(`watchdog option api.host must be a host name or address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`watchdog option api.port must be 0-65535, not ${JSON.stringify(port)}`);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length < 16 || /\s/.test(o.token)))
    throw new UsageError('watchdog option api.token must be a string of at least 16 characters without spaces');
  if (!o.token && !isLoopback(host))
    throw new UsageError(`the watchdog's control API may listen on ${host} only with a token`, 'set api.token, or listen on 127.0.0.1');
  return { host, port, token: o.token };
}

/** A snapshot the watchdog may have to replace: room is left for the staged copy's `.staged`. */
function watchdogSnapshotName(name: unknown): string {
  const checked = checkSnapshotName(name);
  if (checked.length > 57) throw new UsageError(`watchdog option snapshot ${JSON.stringify(checked)} is longer than 57 characters`, 'replacing it needs room for a staged copy named NAME.staged');
  return checked;
}

/** Every option checked before anything starts; unknown keys are refused (a typo would silently do nothing). */
export function resolveWatchdogOptions(options: WatchdogOptions = {}): ResolvedWatchdogOptions {
  if (typeof options !== 'object' || options === null) throw new UsageError('watchdog options must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new UsageError(`unknown watchdog option ${JSON.stringify(key)}`, `known options: ${[...KNOWN].join(', ')}`);
  const takeSnapshot = options.takeSnapshot ?? 'if-missing';
  if (!['if-missing', 'always', 'never'].includes(takeSnapshot)) throw new UsageError(`watchdog option takeSnapshot must be 'if-missing', 'always' or 'never'`);
  const revertMethod = options.revertMethod ?? 'in-place';
  if (revertMethod !== 'in-place' && revertMethod !== 'snapshot-revert') throw new UsageError(`watchdog option revertMethod must be 'in-place' or 'snapshot-revert'`);
  if (options.autoRevert !== undefined && typeof options.autoRevert !== 'boolean') throw new UsageError('watchdog option autoRevert must be true or false');
  const e = group('escalation', options.escalation, ['maxReverts', 'windowMs', 'maxRestarts']);
  const t = group('timeouts', options.timeouts, ['probeMs', 'revertMs', 'killMs']);
  return {
    snapshot: watchdogSnapshotName(options.snapshot ?? 'ready'),
    takeSnapshot,
    heartbeatTimeout: duration('heartbeatTimeout', options.heartbeatTimeout, 10_000),
    idleTimeout: duration('idleTimeout', options.idleTimeout, 12 * 60_000),
    grace: duration('grace', options.grace, 5_000),
    checkInterval: duration('checkInterval', options.checkInterval, 500, { allowZero: false, max: 500 }),
    autoRevert: options.autoRevert ?? true,
    revertMethod,
    escalation: {
      maxReverts: count('escalation.maxReverts', e.maxReverts, 5),
      windowMs: duration('escalation.windowMs', e.windowMs, 10 * 60_000, { allowZero: false }),
      maxRestarts: count('escalation.maxRestarts', e.maxRestarts, 3),
    },
    guestRequestInterval: duration('guestRequestInterval', options.guestRequestInterval, 10_000),
    api: controlApi(options.api),
    timeouts: {
      probeMs: duration('timeouts.probeMs', t.probeMs, DEFAULT_REVERT_TIMEOUTS.probeMs, { allowZero: false }),
      revertMs: duration('timeouts.revertMs', t.revertMs, DEFAULT_REVERT_TIMEOUTS.revertMs, { allowZero: false }),
      killMs: duration('timeouts.killMs', t.killMs, DEFAULT_REVERT_TIMEOUTS.killMs, { allowZero: false }),
    },
  };
}
