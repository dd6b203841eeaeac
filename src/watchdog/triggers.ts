/**
 * Why a revert was asked for. The `reason` is what reports, logs and
 * `expect(watchdog).toHaveRecovered({ reason })` use.
 */
export type RevertReason =
  'heartbeat-timeout' | 'idle-timeout' | 'guest-request' | 'domain-paused' | 'domain-crashed' | 'domain-shutoff' | 'guest-panic' | 'manual';

export const REVERT_REASONS: readonly RevertReason[] = [
  'heartbeat-timeout',
  'idle-timeout',
  'guest-request',
  'domain-paused',
  'domain-crashed',
  'domain-shutoff',
  'guest-panic',
  'manual',
];

export interface Trigger {
  reason: RevertReason;
  /** Free text: the guest's own reason, the domain state libvirt reported, the API caller. */
  detail?: string;
  /** Automatic triggers obey auto-revert; an operator's request (API, test) always acts. */
  automatic: boolean;
}

/** How a recovery was carried out. */
export type RevertMethod = 'in-place' | 'snapshot-revert' | 'restart';

/** One entry of `watchdog.reverts`. */
export interface RevertRecord {
  reason: RevertReason;
  detail?: string;
  /** ISO time the revert started. */
  startedAt: string;
  durationMs: number;
  method: RevertMethod;
  snapshot: string;
  ok: boolean;
  error?: string;
  /** The screen when the fault was noticed and once the guest was back (PNG), when a screen was there. */
  screenBefore?: Buffer;
  screenAfter?: Buffer;
  /** ISO time the guest was healthy again (a heartbeat after the revert), once it was. */
  recoveredAt?: string;
}
