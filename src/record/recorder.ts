import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { defaultTimeout, now } from '../timeouts.js';
import type { Frame } from '../frames.js';
import { trackRecording, untrackRecording } from './active-recordings.js';
import { checkDiskSpace, DiskWatch } from './disk-space.js';
import { segmentArgs, type EncodingSpec, type SegmentArgs } from './encoding.js';
import type { EncoderExit } from './encoder.js';
import { EncoderCrashedError, FinalizeError, RecordingError, RecordingStartError } from './errors.js';
import { NO_SPACE } from './ffmpeg-run.js';
import { finalizeSegments, writePoster } from './finalize.js';
import { FrameComposer, type RecordedSource } from './frame-composer.js';
import { FramePump } from './frame-pump.js';
import { resolveRecordOptions, type RecordOptions, type ResolvedRecordOptions } from './options.js';
import { ensureOutputDirectory } from './output-directory.js';
import { lockOutput, type OutputLock } from './output-lock.js';
import { checkRecording, type RecordingResult } from './recording-result.js';
import { deathError, Segments } from './segments.js';
import { waitConnected } from './source-connection.js';

export type { RecordingResult } from './recording-result.js';

type State = 'idle' | 'starting' | 'recording' | 'stopping' | 'stopped';

/** What exists once the first frame is known: its size fixes the encoding. */
interface Encoding {
  spec: EncodingSpec;
  args: SegmentArgs;
  segments: Segments;
  pump: FramePump;
}

/**
 * Records a FrameSource into a video: start(path), then stop() finishes and checks it.
 * The parts: FrameComposer makes the pictures, FramePump sends them on the frame clock,
 * Segments runs ffmpeg (a new segment when it dies), DiskWatch stops the recording before the
 * disk is too full to finish it, and finalizeSegments makes the video from the segments.
 */
export class Recorder {
  private readonly opts: ResolvedRecordOptions;
  private readonly log: Logger;
  /** Tags this recorder's temp files, so a second recording never overwrites kept segments. */
  private readonly tag = randomBytes(3).toString('hex');
  private readonly composer: FrameComposer;
  private state: State = 'idle';
  private output = '';
  private lock?: OutputLock;
  private encoding?: Encoding;
  private diskWatch?: DiskWatch;
  private unsubscribeInput?: () => void;
  private failure?: RecordingError;
  /** The frame the video ends at when the recording failed. */
  private failedAt?: number;
  private stopPromise?: Promise<RecordingResult>;

  constructor(
    private readonly source: RecordedSource,
    options: RecordOptions & { log?: Logger } = {},
  ) {
    this.opts = resolveRecordOptions(options);
    this.log = options.log ?? createLogger('record');
    this.composer = new FrameComposer(source, this.opts, this.log);
  }

  get recording(): boolean {
    return this.state === 'recording';
  }

  /** The running ffmpeg's pid (tests kill it to exercise segment restarts). */
  get ffmpegPid(): number | undefined {
    return this.encoding?.segments.pid;
  }

  async start(outputPath: string): Promise<void> {
    if (this.state !== 'idle') throw new UsageError('this Recorder was already started', 'use a new Recorder for each section');
    this.state = 'starting';
    let encoding: Encoding;
    try {
      if (typeof outputPath !== 'string' || !outputPath) throw new UsageError(`a video path must be a non-empty string, got ${JSON.stringify(outputPath)}`);
      this.output = resolve(outputPath);
      const dir = dirname(this.output);
      await ensureOutputDirectory(dir);
      this.lock = await lockOutput(this.output);
      if (this.opts.minFreeBytes > 0) await checkDiskSpace(dir, this.opts.minFreeBytes);
      await waitConnected(this.source);
      encoding = await this.startEncoding();
    } catch (err) {
      this.state = 'stopped';
      untrackRecording(this);
      this.encoding?.segments.kill('SIGKILL');
      await this.encoding?.segments.remove();
      await this.releaseLock();
      throw err;
    }
    if (this.opts.keycast || this.opts.clickRings) {
      this.unsubscribeInput = this.source.onInput?.((e) => this.composer.onInput(e, now()));
    }
    this.state = 'recording';
    encoding.pump.run();
    if (this.opts.minFreeBytes > 0) this.watchDisk(encoding);
    this.log.info('recording started', { path: this.output, fps: this.opts.fps, format: this.opts.format });
  }

  /** Sizes the video after the first frame and starts the first segment with it. */
  private async startEncoding(): Promise<Encoding> {
    let probe: Frame;
    try {
      probe = this.source.frame();
    } catch (err) {
      throw new RecordingStartError('cannot read the first frame from the VNC mirror', { cause: err });
    }
    const { format, fps, bitrate, crf, scale } = this.opts;
    const spec: EncodingSpec = { format, fps, width: probe.width, height: probe.height, bitrate, crf, scale };
    this.composer.setSize(probe);
    const t0 = now();
    const first = await this.composer.compose(t0);
    if (!first) throw new RecordingStartError(`the VNC mirror gave no usable first frame (${probe.width}x${probe.height})`);
    const args = segmentArgs(spec);
    const segments = new Segments({
      output: this.output,
      args,
      frame: { width: spec.width, height: spec.height, fps },
      tag: this.tag,
      log: this.log,
      onDeath: (exit) => this.onEncoderDied(exit),
    });
    const pump = new FramePump(this.composer, segments, fps, this.log);
    pump.begin(t0, first);
    this.encoding = { spec, args, segments, pump };
    trackRecording(this);
    await segments.start(0, first);
    return this.encoding;
  }

  private watchDisk({ spec, segments }: Encoding): void {
    this.diskWatch = new DiskWatch({
      output: this.output,
      dir: dirname(this.output),
      minFreeBytes: this.opts.minFreeBytes,
      format: this.opts.format,
      posterBytes: this.opts.poster ? spec.width * spec.height * 4 : 0,
      segments: () => segments.paths,
      log: this.log,
      onLow: (err) => {
        if (this.state !== 'recording' || this.failure) return;
        this.fail(err);
        // Finish now, while there is room: the test may go on for long, and the disk keeps filling.
        this.stopPromise ??= this.finish();
        this.stopPromise.catch(() => undefined);
      },
    });
    this.diskWatch.start();
  }

  // ---- ffmpeg died -------------------------------------------------------------------

  private onEncoderDied(exit: EncoderExit): void {
    const encoding = this.encoding;
    if (!encoding || this.state !== 'recording') return;
    const err = deathError(exit, this.output, encoding.segments.count);
    if (err) return this.fail(err);
    const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    this.log.warn('ffmpeg died, recording continues in a new segment', { path: this.output, how, segment: encoding.segments.count });
    encoding.pump.restartSink((index, picture) =>
      encoding.segments.start(index, picture).catch((cause: unknown) => {
        this.fail(new EncoderCrashedError(`ffmpeg could not be restarted while recording ${this.output}`, { cause }));
      }),
    );
  }

  private fail(err: RecordingError): void {
    if (this.failure) return;
    this.failure = err;
    this.failedAt = this.encoding?.pump.nextIndex;
    this.log.error('recording broke', { path: this.output, error: err });
    this.encoding?.pump.halt();
    this.diskWatch?.stop();
  }

  // ---- stop ----------------------------------------------------------------------------

  /** Finishes the video (graceful, ≤ recorderStop timeout, then kill) and checks it. Idempotent. */
  stop(): Promise<RecordingResult> {
    if (this.state === 'idle') return Promise.reject(new UsageError('stop() before start()'));
    if (this.state === 'starting' && !this.stopPromise) return Promise.reject(new UsageError('stop() while start() is still running', 'await start() first'));
    this.stopPromise ??= this.finish();
    return this.stopPromise;
  }

  /** The signal handler's way to stop: finish the file, never throw. */
  async interrupt(): Promise<void> {
    if (this.state === 'starting') this.encoding?.segments.kill('SIGINT');
    if (this.state !== 'recording' && !this.stopPromise) return;
    await this.stop().catch(() => undefined);
  }

  private async finish(): Promise<RecordingResult> {
    const tEnd = now();
    const encoding = this.encoding;
    if (!encoding) throw new UsageError('stop() before start()');
    const { pump, segments, spec, args } = encoding;
    this.state = 'stopping';
    pump.halt();
    this.diskWatch?.stop();
    this.unsubscribeInput?.();
    this.unsubscribeInput = undefined;
    // Until the video is finished and checked, the segments are the only copy: keep them.
    let videoDone = false;
    try {
      await pump.settle(defaultTimeout('recorderStop'));
      if (!this.failure) await pump.sendLastFrame(tEnd);
      const cutOff = await segments.finish(defaultTimeout('recorderStop'), !!this.failure);
      const endIndex = this.failedAt ?? pump.nextIndex;
      try {
        await finalizeSegments(segments.timeline(endIndex), this.output, spec, this.tag);
      } catch (err) {
        throw this.finalizeError(err, segments.paths);
      }
      const picture = pump.picture;
      const posterPath = this.opts.poster && picture ? await writePoster(picture, this.output, this.log) : undefined;
      const result = await checkRecording({
        path: this.output,
        format: this.opts.format,
        fps: this.opts.fps,
        size: args.geometry,
        frames: endIndex,
        counts: pump.frameCounts,
        wallSec: (tEnd - pump.startedAt) / 1000,
        segments: segments.count,
        posterPath,
        // ffmpeg stopped before encoding every frame sent (a signal, a kill): shorter, not broken.
        failed: !!this.failure || cutOff,
      });
      videoDone = true;
      this.log.info('recording stopped', {
        path: result.path,
        sizeBytes: result.sizeBytes,
        durationSec: result.durationSec,
        wallSec: round3(result.wallSec),
        frames: result.frames,
        duplicatedFrames: result.duplicatedFrames,
        droppedFrames: result.droppedFrames,
        segments: result.segments,
      });
      if (this.failure) throw this.failure;
      return result;
    } finally {
      segments.kill('SIGKILL');
      if (videoDone) await segments.remove();
      else this.log.warn('the video was not finished; its segments are kept', { path: this.output, segments: segments.paths });
      await this.releaseLock();
      untrackRecording(this);
      this.state = 'stopped';
    }
  }

  /** finalizeSegments failed: name the kept segments, say why (a full disk?) and how to finish by hand. */
  private finalizeError(err: unknown, segments: string[]): FinalizeError {
    const text = `${(err as Error)?.message ?? err}`;
    const code = (err as { code?: string })?.code;
    const diskFull = code === 'ERECORD_DISK_FULL' || code === 'ENOSPC' || NO_SPACE.test(text);
    const earlier = this.failure ? ` (the recording had already failed: ${this.failure.message.split('\n')[0]})` : '';
    const reason = diskFull ? `the disk is full${earlier}` : `${text.split('\n')[0]}${earlier}`;
    return new FinalizeError(this.output, segments, reason, { cause: err, diskFull });
  }

  private async releaseLock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release().catch((err: unknown) => this.log.warn('could not remove the video lock', { path: lock.path, error: err }));
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
