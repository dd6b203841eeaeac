/**
 * demotool: scripted demos and screen tests of whole desktops in VMs.
 *
 * The root entry exports what a user's code names: the API (startDemo, recordDemo,
 * DemoSession, Vm), the types on its members, and every error class, to catch by class.
 * The original design's flat verb names live in `demotool/compat`.
 *
 * @packageDocumentation
 */
export * from './api/index.js';
export {
  ImageCache,
  builtInImageNames,
  type BaseImage,
  type BootSpec,
  type ImageCacheOptions,
  type EnsureOptions,
  type CachedImage,
  type SavedBootDir,
  type PruneOptions,
  type PruneResult,
  type BuildProgress,
  type ImageRecipe,
} from './images/index.js';
export type { DomainSource, ImageErrorDetails, Validation, VirtBuilderOptions } from './images/index.js';
export type { Logger, LogFields } from './log.js';
export type { Accel, Resources, SnapshotInfo } from './libvirt/index.js';
export type { Region, Point, Size, MouseButton } from './geometry.js';
export type { ScreenMatch, MatchOptions, VncEndpoint } from './vnc/index.js';
export type { RecordOptions, RecordingResult } from './record/index.js';
export type { ServiceMap, ServiceSpec, MockRoute } from './network/index.js';
export {
  Watchdog,
  REVERT_REASONS,
  type WatchdogOptions,
  type ControlApiOptions,
  type WatchdogStatus,
  type HeartbeatStatus,
  type WatchdogState,
  type WatchdogEvents,
  type RevertRecord,
  type RevertReason,
  type RevertMethod,
  type EscalationPolicy,
} from './watchdog/index.js';
export type { ResolvedWatchdogOptions, WatchedVm, GuestMessage, GuestVia, Trigger, RevertMethodOption, RevertTimeouts } from './watchdog/index.js';
export { Timeouts, defaultTimeout, type TimeoutName } from './timeouts.js';

// Every error demotool throws, by layer.
export { DemotoolError, TimeoutError, UsageError, CommandTimeoutError } from './errors.js';
export { VirshError, VmError } from './libvirt/index.js';
export { VncError, VncConnectError, VncDisconnectedError, ScreenMatchTimeoutError, KeyNameError } from './vnc/index.js';
export {
  RecordingError,
  RecordingStartError,
  SourceNotConnectedError,
  OutputDirectoryError,
  DiskSpaceError,
  EncoderCrashedError,
  OutputFileError,
  FinalizeError,
  OutputLockedError,
} from './record/index.js';
export { ImageBuildError, ImageInUseError, ImageValidationError } from './images/index.js';
export { QemuImgError } from './qemu-img.js';
export { PlaywrightCopiesError } from './playwright-copies.js';
export { WatchdogError } from './watchdog/index.js';
