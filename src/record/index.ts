/** The recording half of demotool: sections of a FrameSource to mp4/webm/gif. */
export { Recorder, type RecordingResult } from './recorder.js';
export { resolveRecordOptions, validateRecordOptions, type RecordOptions } from './options.js';
export { recordSection } from './section.js';
export { joinSections } from './join.js';
export { safeFileName } from './checks.js';
export { probeVideo } from './probe.js';
export {
  RecordingError, RecordingStartError, VNCConnectionError, OutputDirectoryError, DiskSpaceError, VNCStreamError, OutputFileError,
  FinalizeError, OutputLockedError,
} from './errors.js';
export type { Frame, FrameSource, CursorImage, InputEvent, InputSource } from '../frames.js';
