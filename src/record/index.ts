/** The recording half of demotool: sections of a FrameSource to mp4/webm/gif. */
export { Recorder, type RecordingResult } from './recorder.js';
export { resolveRecordOptions, validateRecordOptions, type RecordOptions } from './options.js';
export { recordSection } from './section.js';
export { joinSections } from './join.js';
export { safeFileName } from './section-file-name.js';
export { probeVideo } from './probe.js';
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
} from './errors.js';
export type { FrameSource } from '../frames.js';
