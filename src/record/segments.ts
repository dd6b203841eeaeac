import { rm } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { Frame } from '../frames.js';
import { Encoder, type EncoderExit } from './encoder.js';
import type { SegmentArgs } from './encoding.js';
import { EncoderCrashedError, RecordingError } from './errors.js';
import { NO_SPACE } from './ffmpeg-run.js';
import { tempSibling, type Segment } from './finalize.js';

/** ffmpeg must be encoding within this long after spawn. */
const ENCODER_START_MS = 15_000;

interface SegmentFile {
  path: string;
  /** The recording's frame index of the segment's first frame. */
  startIndex: number;
}

export interface SegmentsOptions {
  /** The video these segments become. */
  output: string;
  args: SegmentArgs;
  /** The pictures' size and the frame rate. */
  frame: { width: number; height: number; fps: number };
  /** Tags this recording's temp files, so a second recording never overwrites kept segments. */
  tag: string;
  log: Logger;
  /** The running ffmpeg exited without being asked to. */
  onDeath: (exit: EncoderExit) => void;
}

/**
 * The segment files of one recording, each written by its own ffmpeg: a new segment starts
 * when ffmpeg dies mid-recording. Frame indexes are the recording's; each segment numbers its
 * frames from its start.
 */
export class Segments {
  private encoder?: Encoder;
  private readonly files: SegmentFile[] = [];

  constructor(private readonly opts: SegmentsOptions) {}

  /** The running ffmpeg's pid. */
  get pid(): number | undefined {
    return this.encoder?.pid;
  }

  get count(): number {
    return this.files.length;
  }

  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  /** Starts a segment whose first frame, `picture`, is frame `startIndex` of the recording. */
  async start(startIndex: number, picture: Frame): Promise<void> {
    const { output, args, frame, tag, log } = this.opts;
    const path = tempSibling(output, `${tag}.seg${this.files.length}.${args.ext}`);
    const enc = new Encoder(path, args, frame, log);
    enc.onUnexpectedExit = (exit) => {
      if (enc === this.encoder) this.opts.onDeath(exit);
    };
    this.files.push({ path, startIndex });
    this.encoder = enc;
    await enc.start(picture.rgba, ENCODER_START_MS);
  }

  /** Writes frame `index` of the recording into the current segment, waiting while ffmpeg is behind. */
  async write(index: number, picture: Frame): Promise<void> {
    const enc = this.encoder;
    const seg = this.files[this.files.length - 1];
    if (!enc?.alive || !seg) return;
    if (!enc.write(index - seg.startIndex, picture.rgba)) await enc.drain();
  }

  /**
   * Lets ffmpeg finish the current segment (killed after `timeoutMs`). True when the segment was
   * cut off: ffmpeg was killed, or a signal stopped it before it had encoded every frame sent.
   */
  async finish(timeoutMs: number, failed: boolean): Promise<boolean> {
    const enc = this.encoder;
    if (!enc) return false;
    const { killed, exit } = await enc.finish(timeoutMs);
    const log = this.opts.log;
    if (killed) log.warn('ffmpeg was killed after the stop timeout', { path: this.opts.output });
    // Someone else's signal (a kill of its process group): the file ends where ffmpeg stopped.
    else if (exit && (exit.interrupted || exit.signal)) log.debug('ffmpeg was stopped by a signal at stop', { code: exit.code, signal: exit.signal });
    else if (exit && exit.code !== 0 && !failed) log.warn('ffmpeg exited with an error at stop', { code: exit.code, stderr: exit.stderrTail });
    return killed || !!exit?.interrupted || !!exit?.signal;
  }

  kill(signal: NodeJS.Signals): void {
    this.encoder?.kill(signal);
  }

  /** Each segment with how long it should last, the last one ending at frame `endIndex`. */
  timeline(endIndex: number): Segment[] {
    return this.files.map((s, i) => ({
      path: s.path,
      durationSec: ((this.files[i + 1]?.startIndex ?? endIndex) - s.startIndex) / this.opts.frame.fps,
    }));
  }

  async remove(): Promise<void> {
    if (process.env.DEMOTOOL_KEEP_SEGMENTS) return; // debugging aid
    await Promise.all(this.files.map((s) => rm(s.path, { force: true })));
  }
}

/**
 * What an unexpected ffmpeg exit means for the recording: an error that ends it, or undefined
 * when a new segment should start (the first death for another reason than a signal or a full disk).
 */
export function deathError(exit: EncoderExit, output: string, segmentCount: number): RecordingError | undefined {
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  if (exit.interrupted) {
    // Ctrl-C reached ffmpeg too: the process is going down, don't fight it.
    return new RecordingError(`ffmpeg was interrupted (${how}); the video ends here`, { code: 'ERECORD_INTERRUPTED' });
  }
  if (exit.diskFull || NO_SPACE.test(exit.stderrTail)) {
    // A restart would only fail the same way.
    return new RecordingError(`the disk is full: ffmpeg stopped writing ${output}; the video was kept up to that point`, {
      code: 'ERECORD_DISK_FULL',
      hint: 'free some disk space (the VM overlays and other recordings may share that disk)',
    });
  }
  if (segmentCount > 1) {
    return new EncoderCrashedError(
      `ffmpeg died again while recording ${output} (${how}); the video was kept up to that point` + (exit.signal ? '' : `\n${exit.stderrTail}`),
      { hint: 'look at the ffmpeg output above; check free disk space and memory' },
    );
  }
  return undefined;
}
