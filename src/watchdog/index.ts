/** The watchdog layer: heartbeats, faults and recovery to a known-good snapshot, and its HTTP API. */
export { Watchdog, type WatchdogEvents, type WatchedVm } from './watchdog.js';
export type { WatchdogOptions, ControlApiOptions, ResolvedWatchdogOptions } from './options.js';
export { watchdogOptionsSchema } from './options.js';
export type { GuestMessage, GuestVia } from './guest-messages.js';
export type { RevertMethodOption, RevertTimeouts } from './reverter.js';
export type { WatchdogStatus, HeartbeatStatus, WatchdogState } from './status.js';
export type { RevertRecord, RevertReason, RevertMethod, Trigger } from './triggers.js';
export { REVERT_REASONS } from './triggers.js';
export type { EscalationPolicy } from './escalation.js';
export { WatchdogError } from './errors.js';
