import type { GuestMessage, GuestVia } from '../guest-messages.js';
import type { HeartbeatStatus, WatchdogStatus } from '../status.js';
import type { RevertRecord } from '../triggers.js';

/** The watchdog's events after which the status page's stream sends the status again. */
export type LiveEvent = 'state' | 'heartbeat' | 'revert' | 'recovered';

/** What the HTTP routes may ask of the watchdog: the routes hold no logic of their own. */
export interface WatchdogPort {
  /** `screenshot`: a PNG of the screen now, when the VM has a screen mirror (the status page's thumbnail). */
  readonly vm: { readonly name: string; screenshot?(): Promise<Buffer> };
  readonly options: { readonly snapshot: string };
  status(): WatchdogStatus;
  heartbeatStatus(): HeartbeatStatus;
  receive(message: GuestMessage, via: GuestVia): { accepted: boolean; why?: string };
  revert(detail?: string): Promise<RevertRecord>;
  start(): Promise<RevertRecord>;
  stop(): Promise<void>;
  setAutoRevert(on: boolean): void;
  snapshots(): Promise<string[]>;
  createSnapshot(name?: string): Promise<void>;
  deleteSnapshot(name: string): Promise<void>;
  /** Every recovery so far, oldest first (the status page's history). None: an empty history. */
  readonly reverts?: readonly RevertRecord[];
  /** Live updates for the status page. Without them its stream still sends the status every second. */
  on?(event: LiveEvent, listener: () => void): unknown;
  off?(event: LiveEvent, listener: () => void): unknown;
}
