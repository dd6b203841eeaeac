import { DemotoolError } from '../errors.js';

type ErrorOptions = { hint?: string; cause?: unknown };

/** Base of every recording failure. */
export class RecordingError extends DemotoolError {
  constructor(message: string, options: ErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'ERECORDING', message, options);
  }
}

/** ffmpeg could not be started (missing, bad options, encoder failed to open). */
export class RecordingStartError extends RecordingError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_START' });
  }
}

/** The frame source (VNC mirror) was not connected when recording started. */
export class VNCConnectionError extends RecordingError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_VNC_CONNECT' });
  }
}

/** The output directory could not be created or written. */
export class OutputDirectoryError extends RecordingError {
  readonly path: string;
  constructor(path: string, message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_OUTPUT_DIR' });
    this.path = path;
  }
}

/** Less free space than `minFreeBytes` on the output's disk. */
export class DiskSpaceError extends RecordingError {
  readonly path: string;
  readonly freeBytes: number;
  readonly neededBytes: number;
  constructor(path: string, freeBytes: number, neededBytes: number) {
    super(
      `not enough free disk space to record into ${path}: ${formatBytes(freeBytes)} free, ${formatBytes(neededBytes)} needed`,
      {
        code: 'ERECORD_DISK_SPACE',
        hint: 'free some space, record elsewhere, or lower the record option `minFreeBytes`',
      },
    );
    this.path = path;
    this.freeBytes = freeBytes;
    this.neededBytes = neededBytes;
  }
}

/** The stream of frames into ffmpeg broke for good (ffmpeg died twice). */
export class VNCStreamError extends RecordingError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_STREAM' });
  }
}

/** The finished video is missing, too small, or does not probe as expected. */
export class OutputFileError extends RecordingError {
  readonly path: string;
  constructor(path: string, message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_OUTPUT_FILE' });
    this.path = path;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export const FFMPEG_HINT = 'install ffmpeg: `apt-get install ffmpeg` (or run `npm run setup`)';
