import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import sharp from 'sharp';
import { UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { defaultTimeout } from '../timeouts.js';
import { checkDiskSpace, ensureDirectory, freeBytes, waitConnected } from './checks.js';
import { builtinArrow, compositeCursor, sameCursor } from './cursor.js';
import { Encoder, type EncoderExit } from './encoder.js';
import { segmentArgs, type EncodingSpec, type SegmentArgs } from './encoding.js';
import { DiskSpaceError, FinalizeError, OutputFileError, RecordingError, RecordingStartError, VNCStreamError } from './errors.js';
import { NO_SPACE } from './ffmpeg-run.js';
import { finalizeSegments, tempSibling, writePoster } from './finalize.js';
import { resolveRecordOptions, type RecordOptions, type ResolvedRecordOptions } from './options.js';
import { lockOutput, type OutputLock } from './output-lock.js';
import { Overlays } from './overlays.js';
import { probeVideo } from './probe.js';
import { applyPlan, dueIndex, planTick, slotTime, totalFrames, type FrameCounts } from './schedule.js';
import { trackRecording, untrackRecording } from './active-recordings.js';
import type { CursorImage, Frame, FrameSource, InputSource } from '../frames.js';

export type { RecordOptions } from './options.js';

export interface RecordingResult {
  path: string;
  section: string;
  format: string;
  /** From ffprobe. */
  durationSec: number;
  /** Measured wall-clock duration of the section. */
  wallSec: number;
  frames: number;
  duplicatedFrames: number;
  droppedFrames: number;
  sizeBytes: number;
  fps: number;
  width: number;
  height: number;
  /** >1 if ffmpeg was restarted mid-section. */
  segments: number;
  posterPath?: string;
}

type Source = FrameSource & Partial<InputSource>;
type State = 'idle' | 'starting' | 'recording' | 'stopping' | 'stopped';

interface SegmentState {
  path: string;
  startIndex: number;
}

/** ffmpeg must be encoding within this long after spawn. */
const ENCODER_START_MS = 15_000;
const MIN_VIDEO_BYTES = 1024;
const KEEPALIVE_SEC = 0.5;
/** How often free space is checked while recording. */
const DISK_CHECK_MS = 1_000;
/** Headroom kept free while recording, at most (never more than minFreeBytes). */
const DISK_FLOOR_BYTES = 16 * 1024 ** 2;

function sectionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * Records a FrameSource into a video. Samples the mirror on a clock (frame n is due at
 * t0 + n/fps), sends a picture to ffmpeg only when it changed, stamped with its slot;
 * ffmpeg's fps filter repeats it in between, so the video is CFR and as long as the section.
 */
export class Recorder {
  private readonly opts: ResolvedRecordOptions;
  private readonly log: Logger;
  private state: State = 'idle';
  private output = '';
  private spec?: EncodingSpec;
  private args?: SegmentArgs;
  private encoder?: Encoder;
  private segments: SegmentState[] = [];
  private restarts = 0;
  private failure?: RecordingError;
  private t0 = 0;
  private lastIndex = -1;
  /** Last frame index actually written to ffmpeg. */
  private lastSentIndex = -1;
  private counts: FrameCounts = { sent: 0, duplicated: 0, dropped: 0 };
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private sentVersion = NaN;
  private sentPointer = { x: NaN, y: NaN };
  private sentCursor?: CursorImage;
  private lastPicture?: Frame;
  private overlays: Overlays;
  private unsubscribeInput?: () => void;
  private stopPromise?: Promise<RecordingResult>;
  private lock?: OutputLock;
  /** Tags this recorder's temp files, so a second recording never overwrites kept segments. */
  private readonly tag = randomBytes(3).toString('hex');
  private diskTimer?: NodeJS.Timeout;
  private diskChecking = false;
  private lastSegmentBytes = 0;

  constructor(private readonly source: Source, options: RecordOptions & { log?: Logger } = {}) {
    this.opts = resolveRecordOptions(options);
    this.log = options.log ?? createLogger('record');
    this.overlays = new Overlays({ keycast: this.opts.keycast, clickRings: this.opts.clickRings, frameWidth: 0 });
  }

  get recording(): boolean {
    return this.state === 'recording';
  }

  /** The running ffmpeg's pid (tests kill it to exercise segment restarts). */
  get ffmpegPid(): number | undefined {
    return this.encoder?.pid;
  }

  async start(outputPath: string): Promise<void> {
    if (this.state !== 'idle') throw new UsageError('this Recorder was already started', 'use a new Recorder for each section');
    this.state = 'starting';
    try {
      if (typeof outputPath !== 'string' || !outputPath) throw new UsageError(`a video path must be a non-empty string, got ${JSON.stringify(outputPath)}`);
      this.output = resolve(outputPath);
      const dir = dirname(this.output);
      await ensureDirectory(dir);
      this.lock = await lockOutput(this.output);
      if (this.opts.minFreeBytes > 0) await checkDiskSpace(dir, this.opts.minFreeBytes);
      await waitConnected(this.source);
      await this.startFirstSegment();
    } catch (err) {
      this.state = 'stopped';
      untrackRecording(this);
      this.encoder?.kill('SIGKILL');
      await this.removeSegments();
      await this.releaseLock();
      throw err;
    }
    if (this.opts.keycast || this.opts.clickRings) {
      this.unsubscribeInput = this.source.onInput?.((e) => this.overlays.onInput(e, performance.now()));
    }
    this.state = 'recording';
    this.schedule();
    if (this.opts.minFreeBytes > 0) this.diskTimer = setInterval(() => void this.checkDiskWhileRecording(), DISK_CHECK_MS);
    this.log.info('recording started', { path: this.output, fps: this.opts.fps, format: this.opts.format });
  }

  private async startFirstSegment(): Promise<void> {
    let probe: Frame;
    try {
      probe = this.source.frame();
    } catch (err) {
      throw new RecordingStartError('cannot read the first frame from the VNC mirror', { cause: err });
    }
    this.overlays = new Overlays({ keycast: this.opts.keycast, clickRings: this.opts.clickRings, frameWidth: probe.width });
    this.spec = {
      format: this.opts.format, fps: this.opts.fps, width: probe.width, height: probe.height,
      bitrate: this.opts.bitrate, crf: this.opts.crf, scale: this.opts.scale,
    };
    this.args = segmentArgs(this.spec);
    const now = performance.now();
    const first = await this.compose(now);
    if (!first) throw new RecordingStartError(`the VNC mirror gave no usable first frame (${probe.width}x${probe.height})`);
    this.t0 = now;
    this.lastIndex = 0;
    this.counts = { sent: 1, duplicated: 0, dropped: 0 };
    trackRecording(this);
    await this.startSegment(0, first);
  }

  private async startSegment(startIndex: number, picture: Frame): Promise<void> {
    const path = tempSibling(this.output, `${this.tag}.seg${this.segments.length}.${this.args!.ext}`);
    const enc = new Encoder(path, this.args!, { width: this.spec!.width, height: this.spec!.height, fps: this.opts.fps }, this.log);
    enc.onUnexpectedExit = (exit) => this.onEncoderDied(enc, exit);
    this.segments.push({ path, startIndex });
    this.encoder = enc;
    this.lastPicture = picture;
    this.lastSentIndex = startIndex;
    await enc.start(picture.rgba, ENCODER_START_MS);
  }

  // ---- sampling -------------------------------------------------------------------

  private schedule(): void {
    if (this.state !== 'recording' || this.failure) return;
    const delay = slotTime(this.t0, this.lastIndex + 1, this.opts.fps) - performance.now();
    this.timer = setTimeout(this.tick, Math.max(0, Math.ceil(delay)));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.state !== 'recording' || this.failure) return;
    const now = performance.now();
    const plan = planTick({
      lastIndex: this.lastIndex,
      due: dueIndex(this.t0, now, this.opts.fps),
      changed: this.changed(now),
      busy: !!this.inflight,
    });
    if (plan) {
      this.lastIndex = plan.index;
      this.counts = applyPlan(this.counts, plan);
      if (plan.send) this.track(this.send(plan.index, now));
      else if (!this.inflight && plan.index - this.lastSentIndex >= this.opts.fps * KEEPALIVE_SEC) {
        // Re-send the unchanged picture now and then: ffmpeg stays current (a fast stop,
        // and a killed ffmpeg has written almost everything).
        this.track(this.write(plan.index, this.lastPicture!));
      }
    }
    this.schedule();
  };

  private track(p: Promise<void>): void {
    const mine = p.finally(() => {
      if (this.inflight === mine) this.inflight = undefined;
    });
    this.inflight = mine;
  }

  /** Did the picture change since the last one sent? While disconnected the last frame stays (frozen). */
  private changed(now: number): boolean {
    const s = this.source;
    if (!s.connected) return false;
    return (
      s.version !== this.sentVersion ||
      s.pointer.x !== this.sentPointer.x ||
      s.pointer.y !== this.sentPointer.y ||
      (this.opts.cursor && !sameCursor(s.cursor, this.sentCursor)) ||
      this.overlays.changed(now)
    );
  }

  /** Our own copy of the mirror with overlays and pointer drawn in, at the first frame's size. */
  private async compose(now: number): Promise<Frame | undefined> {
    const s = this.source;
    const version = s.version;
    let f: Frame;
    try {
      f = s.frame();
    } catch (err) {
      this.log.debug('frame source failed, keeping the last frame', { error: err });
      return undefined;
    }
    if (!f || f.rgba.length < f.width * f.height * 4 || f.width <= 0 || f.height <= 0) return undefined;
    const rgba = Buffer.allocUnsafeSlow(f.width * f.height * 4);
    f.rgba.copy(rgba, 0, 0, rgba.length);
    const pic: Frame = { width: f.width, height: f.height, rgba };
    this.sentVersion = version;
    this.sentPointer = { x: s.pointer.x, y: s.pointer.y };
    this.overlays.draw(pic, now);
    if (this.opts.cursor) {
      const cursor = s.cursor;
      this.sentCursor = cursor && { ...cursor, rgba: Buffer.from(cursor.rgba) };
      compositeCursor(pic, cursor ?? builtinArrow(), s.pointer.x, s.pointer.y);
    }
    return this.spec && (pic.width !== this.spec.width || pic.height !== this.spec.height) ? this.letterbox(pic) : pic;
  }

  /** The screen changed size: fit it into the first size, keeping the aspect ratio. */
  private async letterbox(pic: Frame): Promise<Frame> {
    const { width, height } = this.spec!;
    // A screen is opaque: drop alpha so a source with alpha 0 is not premultiplied to black.
    const rgba = await sharp(pic.rgba, { raw: { width: pic.width, height: pic.height, channels: 4 } })
      .removeAlpha()
      .resize(width, height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
      .ensureAlpha()
      .raw()
      .toBuffer();
    return { width, height, rgba };
  }

  private async send(index: number, now: number): Promise<void> {
    try {
      const pic = await this.compose(now);
      if (!pic) return;
      this.lastPicture = pic;
      await this.write(index, pic);
    } catch (err) {
      this.log.warn('frame skipped', { index, error: err });
    }
  }

  private async write(index: number, pic: Frame): Promise<void> {
    const enc = this.encoder;
    const seg = this.segments[this.segments.length - 1];
    if (!enc?.alive || !seg) return;
    this.lastSentIndex = index;
    if (!enc.write(index - seg.startIndex, pic.rgba)) await enc.drain();
  }

  // ---- ffmpeg died -------------------------------------------------------------------

  private onEncoderDied(enc: Encoder, exit: EncoderExit): void {
    if (enc !== this.encoder || this.state !== 'recording') return;
    const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    if (exit.interrupted) {
      // Ctrl-C reached ffmpeg too: the process is going down, don't fight it.
      this.fail(new RecordingError(`ffmpeg was interrupted (${how}); the video ends here`, { code: 'ERECORD_INTERRUPTED' }));
      return;
    }
    if (exit.diskFull || NO_SPACE.test(exit.stderrTail)) {
      // A restart would only fail the same way.
      this.fail(new RecordingError(`the disk is full: ffmpeg stopped writing ${this.output}; the video was kept up to that point`, {
        code: 'ERECORD_DISK_FULL', hint: 'free some disk space (the VM overlays and other recordings may share that disk)',
      }));
      return;
    }
    if (this.restarts >= 1) {
      this.fail(new VNCStreamError(
        `ffmpeg died again while recording ${this.output} (${how}); the video was kept up to that point` +
          (exit.signal ? '' : `\n${exit.stderrTail}`),
        { hint: 'look at the ffmpeg output above; check free disk space and memory' },
      ));
      return;
    }
    this.restarts++;
    const startIndex = this.lastIndex + 1;
    this.log.warn('ffmpeg died, recording continues in a new segment', { path: this.output, how, segment: this.segments.length });
    this.lastIndex = startIndex;
    this.counts = applyPlan(this.counts, { index: startIndex, send: true, duplicated: 0, dropped: 0 });
    this.track(this.restart(startIndex));
  }

  private async restart(startIndex: number): Promise<void> {
    const pic = (await this.compose(performance.now()).catch(() => undefined)) ?? this.lastPicture!;
    try {
      await this.startSegment(startIndex, pic);
    } catch (err) {
      this.fail(new VNCStreamError(`ffmpeg could not be restarted while recording ${this.output}`, { cause: err }));
    }
  }

  private fail(err: RecordingError): void {
    if (this.failure) return;
    this.failure = err;
    this.failedAt = this.lastIndex + 1;
    this.log.error('recording broke', { path: this.output, error: err });
    clearTimeout(this.timer);
  }

  private failedAt?: number;

  // ---- free space ------------------------------------------------------------------------

  /**
   * What finishing the video needs on disk: the final file (about the segments' size; a
   * gif or a re-encode may be larger), what ffmpeg writes before it stops (two check
   * intervals at the current rate), the poster, and a little headroom.
   */
  private bytesToFinish(segmentBytes: number, growth: number): number {
    const factor = this.opts.format === 'gif' ? 3 : this.segments.length > 1 ? 1.5 : 1.1;
    const poster = this.opts.poster && this.spec ? this.spec.width * this.spec.height * 4 : 0;
    const floor = Math.min(this.opts.minFreeBytes, DISK_FLOOR_BYTES);
    return Math.ceil((segmentBytes + 2 * growth) * factor + poster + 64 * 1024 + floor);
  }

  private async segmentBytes(): Promise<number> {
    const sizes = await Promise.all(this.segments.map((s) => stat(s.path).then((st) => st.size, () => 0)));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** Every second while recording: stop cleanly, with a finished video, before the disk is too full to finish it. */
  private async checkDiskWhileRecording(): Promise<void> {
    if (this.state !== 'recording' || this.failure || this.diskChecking) return;
    this.diskChecking = true;
    try {
      const dir = dirname(this.output);
      const [free, bytes] = await Promise.all([freeBytes(dir), this.segmentBytes()]);
      const growth = Math.max(0, bytes - this.lastSegmentBytes);
      this.lastSegmentBytes = bytes;
      const needed = this.bytesToFinish(bytes, growth);
      if (free >= needed || this.state !== 'recording' || this.failure) return;
      this.fail(new DiskSpaceError(dir, free, needed, { stopped: this.output }));
      // Finish now, while there is room: the test may go on for long, and the disk keeps filling.
      this.stopPromise ??= this.doStop();
      this.stopPromise.catch(() => undefined);
    } catch (err) {
      this.log.debug('free space check failed', { error: err });
    } finally {
      this.diskChecking = false;
    }
  }

  // ---- stop ----------------------------------------------------------------------------

  /** Finishes the video (graceful, ≤ recorderStop timeout, then kill) and checks it. Idempotent. */
  stop(): Promise<RecordingResult> {
    if (this.state === 'idle') return Promise.reject(new UsageError('stop() before start()'));
    if (this.state === 'starting' && !this.stopPromise) return Promise.reject(new UsageError('stop() while start() is still running', 'await start() first'));
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  /** Signal handler path: finish the file, never throw. */
  async interrupt(): Promise<void> {
    if (this.state === 'starting') this.encoder?.kill('SIGINT');
    if (this.state !== 'recording' && !this.stopPromise) return;
    await this.stop().catch(() => undefined);
  }

  private async doStop(): Promise<RecordingResult> {
    const tEnd = performance.now();
    this.state = 'stopping';
    clearTimeout(this.timer);
    clearInterval(this.diskTimer);
    this.unsubscribeInput?.();
    this.unsubscribeInput = undefined;
    // Until the video is finished and checked, the segments are the only copy: keep them.
    let videoDone = false;
    try {
      await this.waitInflight();
      if (!this.failure) await this.sendLastFrame(tEnd);
      await this.finishEncoder();
      const endIndex = this.failedAt ?? this.lastIndex + 1;
      const segments = this.segmentDurations(endIndex);
      try {
        await finalizeSegments(segments, this.output, this.spec!, this.tag);
      } catch (err) {
        throw this.finalizeError(err);
      }
      const posterPath = await this.poster();
      const result = await this.check(endIndex, (tEnd - this.t0) / 1000, posterPath);
      videoDone = true;
      this.log.info('recording stopped', {
        path: result.path, sizeBytes: result.sizeBytes, durationSec: result.durationSec, wallSec: round3(result.wallSec),
        frames: result.frames, duplicatedFrames: result.duplicatedFrames, droppedFrames: result.droppedFrames,
        segments: result.segments,
      });
      if (this.failure) throw this.failure;
      return result;
    } finally {
      this.encoder?.kill('SIGKILL');
      if (videoDone) await this.removeSegments();
      else this.log.warn('the video was not finished; its segments are kept', { path: this.output, segments: this.segments.map((s) => s.path) });
      await this.releaseLock();
      untrackRecording(this);
      this.state = 'stopped';
    }
  }

  /** finalizeSegments failed: name the kept segments, say why (a full disk?) and how to finish by hand. */
  private finalizeError(err: unknown): FinalizeError {
    const text = `${(err as Error)?.message ?? err}`;
    const diskFull = (err as { code?: string })?.code === 'ERECORD_DISK_FULL' || (err as { code?: string })?.code === 'ENOSPC' || NO_SPACE.test(text);
    const earlier = this.failure ? ` (the recording had already failed: ${this.failure.message.split('\n')[0]})` : '';
    const reason = diskFull ? `the disk is full${earlier}` : `${text.split('\n')[0]}${earlier}`;
    return new FinalizeError(this.output, this.segments.map((s) => s.path), reason, { cause: err, diskFull });
  }

  private async releaseLock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release().catch((err: unknown) => this.log.warn('could not remove the video lock', { path: lock.path, error: err }));
  }

  private async waitInflight(): Promise<void> {
    const limit = defaultTimeout('recorderStop');
    const deadline = performance.now() + limit;
    while (this.inflight && performance.now() < deadline) {
      await Promise.race([this.inflight, new Promise((r) => setTimeout(r, Math.max(1, deadline - performance.now())))]);
    }
  }

  /** One more frame at the end, so the video lasts as long as the section did. */
  private async sendLastFrame(tEnd: number): Promise<void> {
    const total = totalFrames(this.t0, tEnd, this.opts.fps, this.lastIndex);
    const last = total - 1;
    const changed = this.changed(tEnd);
    if (last > this.lastIndex) {
      this.counts.duplicated += last - this.lastIndex - (changed ? 1 : 0);
      if (changed) this.counts.sent++;
      this.lastIndex = last;
    }
    // ffmpeg only knows how long the last picture lasts if a frame marks the end.
    if (last <= this.lastSentIndex) return;
    const pic = (changed ? await this.compose(tEnd) : undefined) ?? this.lastPicture!;
    this.lastPicture = pic;
    await this.write(last, pic);
  }

  private async finishEncoder(): Promise<void> {
    const enc = this.encoder;
    if (!enc) return;
    const { killed, exit } = await enc.finish(defaultTimeout('recorderStop'));
    if (killed) this.log.warn('ffmpeg was killed after the stop timeout', { path: this.output });
    else if (exit && exit.code !== 0 && !this.failure) this.log.warn('ffmpeg exited with an error at stop', { code: exit.code, stderr: exit.stderrTail });
  }

  private segmentDurations(endIndex: number) {
    return this.segments.map((s, i) => ({
      path: s.path,
      durationSec: ((this.segments[i + 1]?.startIndex ?? endIndex) - s.startIndex) / this.opts.fps,
    }));
  }

  private async poster(): Promise<string | undefined> {
    if (!this.opts.poster || !this.lastPicture) return undefined;
    const path = this.output.replace(/\.[^./]+$/, '') + '.png';
    try {
      await writePoster(this.lastPicture, path);
    } catch (err) {
      // The video is what matters: a poster that cannot be written (full disk) is only a warning.
      this.log.warn('the poster could not be written', { path, error: err });
      await rm(path, { force: true }).catch(() => undefined);
      return undefined;
    }
    return path;
  }

  /** The spec's output check: big enough, readable, and as long, fast and large as intended. */
  private async check(endIndex: number, wallSec: number, posterPath?: string): Promise<RecordingResult> {
    const path = this.output;
    const sizeBytes = await stat(path).then((s) => s.size, () => 0);
    if (sizeBytes <= MIN_VIDEO_BYTES) throw new OutputFileError(path, `the video ${path} is missing or too small (${sizeBytes} bytes)`);
    const info = await probeVideo(path);
    const fps = this.opts.fps;
    const expected = endIndex / fps;
    const geometry = this.args!.geometry;
    const problems: string[] = [];
    if (Math.abs(info.durationSec - expected) > Math.max(0.02 * expected, 0.2)) problems.push(`duration ${info.durationSec}s, expected ${expected.toFixed(3)}s`);
    if (this.opts.format !== 'gif' && Math.abs(info.fps - fps) > 0.01 * fps) problems.push(`${info.fps} fps, expected ${fps}`);
    if (info.width !== geometry.width || info.height !== geometry.height) problems.push(`${info.width}x${info.height}, expected ${geometry.width}x${geometry.height}`);
    if (problems.length && !this.failure) {
      throw new OutputFileError(path, `the video ${path} is not as recorded: ${problems.join('; ')}`, {
        hint: 'this is a demotool bug or a broken ffmpeg; keep the file and report it',
      });
    }
    return {
      path, section: sectionOf(path), format: this.opts.format,
      durationSec: info.durationSec, wallSec,
      frames: endIndex, duplicatedFrames: this.counts.duplicated, droppedFrames: this.counts.dropped,
      sizeBytes, fps, width: info.width, height: info.height,
      segments: this.segments.length,
      ...(posterPath ? { posterPath } : {}),
    };
  }

  private async removeSegments(): Promise<void> {
    if (process.env.DEMOTOOL_KEEP_SEGMENTS) return; // debugging aid
    await Promise.all(this.segments.map((s) => rm(s.path, { force: true })));
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
