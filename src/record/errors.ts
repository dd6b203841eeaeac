import { hostname } from 'node:os';
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

/** The frame source (the VM's screen mirror) did not connect in time: there is nothing to record yet. */
export class SourceNotConnectedError extends RecordingError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_NOT_CONNECTED' });
  }
}

/** The directory the videos (and the rest of a demo's output) go into could not be created or written. */
export class OutputDirectoryError extends RecordingError {
  readonly path: string;
  constructor(path: string, message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'EOUTPUTDIR' });
    this.path = path;
  }
}

/**
 * Less free space than `minFreeBytes` on the output's disk at the start (ERECORD_DISK_SPACE),
 * or, with `stopped`, free space ran low while recording (ERECORD_DISK_LOW): the recording was
 * stopped and the video up to then finished into `stopped`.
 */
export class DiskSpaceError extends RecordingError {
  readonly path: string;
  readonly freeBytes: number;
  readonly neededBytes: number;
  /** The video that was cut short, when the space ran low while recording. */
  readonly video?: string;
  constructor(path: string, freeBytes: number, neededBytes: number, options: { stopped?: string } = {}) {
    super(
      options.stopped
        ? `free disk space ran low while recording ${options.stopped}: ${formatBytes(freeBytes)} free in ${path}, ` +
            `${formatBytes(neededBytes)} needed to finish the video; the recording was stopped and the video up to then kept`
        : `not enough free disk space to record into ${path}: ${formatBytes(freeBytes)} free, ${formatBytes(neededBytes)} needed`,
      {
        code: options.stopped ? 'ERECORD_DISK_LOW' : 'ERECORD_DISK_SPACE',
        hint: options.stopped
          ? 'free some space or record elsewhere (the VM overlays and other recordings may share that disk)'
          : 'free some space, record elsewhere, or lower the record option `minFreeBytes`',
      },
    );
    this.path = path;
    this.freeBytes = freeBytes;
    this.neededBytes = neededBytes;
    this.video = options.stopped;
  }
}

/**
 * The segments could not be turned into the final video (a full disk, ffmpeg failed or timed
 * out). The segments, the only copy of the recording, are kept and named here.
 */
export class FinalizeError extends RecordingError {
  readonly path: string;
  readonly segments: string[];
  constructor(path: string, segments: string[], reason: string, options: ErrorOptions & { diskFull?: boolean } = {}) {
    super(
      `the video ${path} could not be finished: ${reason}\n` +
        `the recording is kept in ${segments.length === 1 ? 'the segment file' : `${segments.length} segment files`}: ${segments.join(', ')}`,
      {
        code: 'ERECORD_FINALIZE',
        cause: options.cause,
        hint: options.hint ?? `${options.diskFull ? 'free some disk space, then ' : ''}finish it by hand: ${finishCommand(segments, path)}`,
      },
    );
    this.path = path;
    this.segments = segments;
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A shell command that turns kept segments into the video. */
export function finishCommand(segments: string[], output: string): string {
  const copy = /\.gif$/i.test(output) ? '' : ' -c copy';
  const [only] = segments;
  if (segments.length === 1 && only !== undefined) return `ffmpeg -i ${shellQuote(only)}${copy} ${shellQuote(output)}`;
  const list = `${output}.segments.txt`;
  return (
    `printf "file '%s'\\n" ${segments.map(shellQuote).join(' ')} > ${shellQuote(list)} && ` +
    `ffmpeg -f concat -safe 0 -i ${shellQuote(list)}${copy} ${shellQuote(output)}`
  );
}

/** Another recorder (in this or another process) is writing the same file. */
export class OutputLockedError extends RecordingError {
  readonly path: string;
  readonly lockPath: string;
  readonly ownerPid?: number;
  constructor(path: string, lockPath: string, owner: { pid?: number; host?: string } = {}) {
    const who =
      owner.pid === undefined
        ? 'another recorder'
        : owner.pid === process.pid && owner.host === hostname()
          ? `another recorder in this process (${owner.pid})`
          : `another recorder (process ${owner.pid}${owner.host ? ` on ${owner.host}` : ''})`;
    super(`${who} is writing ${path}; two recordings cannot share one file`, {
      code: 'ERECORD_OUTPUT_LOCKED',
      hint: `give each recording its own file (another section name or directory); if no recorder is running, delete ${lockPath}`,
    });
    this.path = path;
    this.lockPath = lockPath;
    this.ownerPid = owner.pid;
  }
}

/** The encoding ffmpeg died a second time in one recording (the first death starts a new segment). */
export class EncoderCrashedError extends RecordingError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, code: 'ERECORD_ENCODER_CRASHED' });
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
