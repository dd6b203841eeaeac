/** demotool: scripted demos and screen tests of whole desktops in VMs. */
export * from './api/index.js';
export { ImageCache, ImageInUseError, builtInImageNames, type BaseImage } from './images/index.js';
export type { Region, ScreenMatch, VncEndpoint } from './vnc/index.js';
export type { RecordOptions, RecordingResult } from './record/index.js';
export { RecordingError, DiskSpaceError, FinalizeError, OutputLockedError, validateRecordOptions } from './record/index.js';
export { DemotoolError, TimeoutError, UsageError, CommandTimeoutError } from './errors.js';
export { VmError, VirshError } from './libvirt/index.js';
export {
  Watchdog, WatchdogError, REVERT_REASONS, type WatchdogOptions, type ControlApiOptions, type WatchdogStatus, type HeartbeatStatus,
  type WatchdogState, type RevertRecord, type RevertReason, type RevertMethod, type EscalationPolicy,
} from './watchdog/index.js';
export { Timeouts, defaultTimeout } from './timeouts.js';
