import { UsageError } from '../errors.js';
import { parseOptions, z } from '../option-schema.js';
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
  api: (Required<Omit<ControlApiOptions, 'token'>> & { token?: string }) | false;
  timeouts: RevertTimeouts;
}

/** Milliseconds ≥ 0 (0 switches the check off), rounded. */
const duration = (fallback: number, max = MAX_TIMER_MS) => z.number().nonnegative().max(max).transform(Math.round).default(fallback);
/** Milliseconds above 0, rounded. */
const positiveDuration = (fallback: number, max = MAX_TIMER_MS) => z.number().positive().max(max).transform(Math.round).default(fallback);
const count = (fallback: number) => z.number().int().min(1).default(fallback);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const controlApiSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(0),
    token: z.string().min(16).regex(/^\S+$/, 'must not contain spaces').optional(),
  })
  .refine((api) => api.token || isLoopback(api.host), {
    message: 'the control API may listen beyond loopback only with a token (set api.token, or listen on 127.0.0.1)',
    path: ['host'],
  });

/** A snapshot the watchdog may have to replace: room is left for the staged copy's `.staged`. */
function watchdogSnapshotName(name: string): string {
  const checked = checkSnapshotName(name);
  if (checked.length > 57)
    throw new UsageError(
      `watchdog option snapshot ${JSON.stringify(checked)} is longer than 57 characters`,
      'replacing it needs room for a staged copy named NAME.staged',
    );
  return checked;
}

/** The watchdog's options, with their defaults. Also the schema of a config file's watchdog section. */
export const watchdogOptionsSchema = z.strictObject({
  snapshot: z.string().default('ready').transform(watchdogSnapshotName),
  takeSnapshot: z.enum(['if-missing', 'always', 'never']).default('if-missing'),
  heartbeatTimeout: duration(10_000),
  idleTimeout: duration(12 * 60_000),
  grace: duration(5_000),
  checkInterval: positiveDuration(500, 500),
  autoRevert: z.boolean().default(true),
  revertMethod: z.enum(['in-place', 'snapshot-revert']).default('in-place'),
  escalation: z
    .strictObject({ maxReverts: count(5), windowMs: positiveDuration(10 * 60_000), maxRestarts: count(3) })
    .default({ maxReverts: 5, windowMs: 10 * 60_000, maxRestarts: 3 }),
  guestRequestInterval: duration(10_000),
  api: z.union([z.literal(false), controlApiSchema]).default({ host: '127.0.0.1', port: 0 }),
  timeouts: z
    .strictObject({
      probeMs: positiveDuration(DEFAULT_REVERT_TIMEOUTS.probeMs),
      revertMs: positiveDuration(DEFAULT_REVERT_TIMEOUTS.revertMs),
      killMs: positiveDuration(DEFAULT_REVERT_TIMEOUTS.killMs),
    })
    .default(DEFAULT_REVERT_TIMEOUTS),
});

/** Every option checked before anything starts; unknown keys are refused (a typo would silently do nothing). */
export function resolveWatchdogOptions(options: WatchdogOptions = {}): ResolvedWatchdogOptions {
  return parseOptions(watchdogOptionsSchema, options, 'watchdog', '0 switches a timeout off');
}
