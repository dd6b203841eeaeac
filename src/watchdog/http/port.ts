import type { GuestMessage, GuestVia } from '../guest-messages.js';
import type { HeartbeatStatus, WatchdogStatus } from '../status.js';
import type { RevertRecord } from '../triggers.js';

/** What the HTTP routes may ask of the watchdog: the routes hold no logic of their own. */
export interface WatchdogPort {
  readonly vm: { readonly name: string };
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
}
