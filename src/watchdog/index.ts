/** The watchdog layer: heartbeats, faults and recovery to a known-good snapshot, and its HTTP API. */
export { Watchdog, type WatchdogEvents } from './watchdog.js';
export type { WatchdogOptions, ControlApiOptions } from './options.js';
export type { WatchdogStatus, HeartbeatStatus, WatchdogState } from './status.js';
export type { RevertRecord, RevertReason, RevertMethod } from './triggers.js';
export { REVERT_REASONS } from './triggers.js';
export type { EscalationPolicy } from './escalation.js';
export { WatchdogError } from './errors.js';
