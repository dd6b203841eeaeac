import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.js';
import { FFMPEG_HINT, RecordingStartError } from './errors.js';
import { ffmpegArgs, NO_SPACE } from './ffmpeg-run.js';
import { frameTicks, mkvFramePrefix, mkvHeader } from './mkv.js';
import type { SegmentArgs } from './encoding.js';
import { YuvConverter } from './yuv.js';

export interface EncoderExit {
  code: number | null;
  signal: string | null;
  /** ffmpeg itself said it stopped on SIGINT/SIGTERM (e.g. Ctrl-C in the terminal). */
  interrupted: boolean;
  killedByUs: boolean;
  stderrTail: string;
  /** ffmpeg said "No space left on device" (the line may be gone from the tail). */
  diskFull: boolean;
}

const STDERR_LINES = 10;
/** Banner and progress lines: never what explains a failure. */
const NOISE = /^(ffmpeg version|\s+(built with|configuration:|lib\w+\s+\d)|frame=|\s*$)/;

/**
 * One ffmpeg process encoding one segment from our Matroska stream on stdin.
 * Frames are numbered from 0 within the segment.
 */
export class Encoder {
  private proc?: ChildProcessByStdio<Writable, null, Readable>;
  private stderr: string[] = [];
  private exited?: EncoderExit;
  private exitWaiters: ((e: EncoderExit) => void)[] = [];
  private killedByUs = false;
  private ending = false;
  private noSpace = false;
  /** Makes I420 from the caller's RGBA when the segment takes I420. */
  private readonly yuv?: YuvConverter;
  /** Buffers ffmpeg's pipe has finished with: each picture is copied into one, so the caller may reuse its own at once. */
  private readonly spare: Buffer[] = [];
  /** Called once if ffmpeg exits before finish() was asked for. */
  onUnexpectedExit?: (exit: EncoderExit) => void;

  constructor(
    readonly path: string,
    private readonly args: SegmentArgs,
    private readonly frame: { width: number; height: number; fps: number },
    private readonly log: Logger,
  ) {
    if (args.pixels === 'I420') this.yuv = new YuvConverter(frame.width, frame.height);
  }

  get pid(): number | undefined {
    return this.exited ? undefined : this.proc?.pid;
  }

  get alive(): boolean {
    return !!this.proc && !this.exited;
  }

  get stderrTail(): string {
    return this.stderr.join('\n');
  }

  /**
   * Spawns ffmpeg, sends the header and the first picture, and resolves once ffmpeg
   * has read them (so a missing binary or bad arguments fail here, not later).
   */
  async start(first: Buffer, timeoutMs: number): Promise<void> {
    const args = ffmpegArgs({
      inputs: [{ path: 'pipe:0', options: ['-f', 'matroska', ...this.args.inputOptions] }],
      output: this.path,
      format: this.args.container,
      outputOptions: this.args.outputOptions,
    });
    // A process group of its own: the terminal's Ctrl-C would stop ffmpeg mid-frame, before our
    // cleanup finishes the video. If this process dies, stdin closes and ffmpeg ends the file.
    const proc = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    this.proc = proc;
    proc.stdin.on('error', () => {
      /* EPIPE when ffmpeg dies: the exit handler reports it */
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.startError(`ffmpeg did not start encoding within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      createInterface({ input: proc.stderr }).on('line', (line) => {
        if (NO_SPACE.test(line)) this.noSpace = true;
        if (!NOISE.test(line)) this.stderr.push(line);
        if (this.stderr.length > STDERR_LINES) this.stderr.shift();
        // Input parsed and streams mapped. (The encoder itself opens only when the fps filter
        // has seen a second frame, which may be seconds away on an idle screen.)
        if (line.startsWith('Stream mapping:')) done();
      });
      proc.on('error', (err) => {
        // Not spawned (ffmpeg missing): no 'close' with an exit status follows.
        this.onExit(null, null);
        done(this.startError(`ffmpeg failed to start: ${err.message}`, err));
      });
      proc.on('close', (code, signal) => {
        this.onExit(code, signal);
        done(this.startError('ffmpeg exited before encoding'));
      });
    });
    this.log.debug('ffmpeg started', { pid: proc.pid, command: ['ffmpeg', ...args].join(' ') });
    proc.stdin.write(mkvHeader(this.frame.width, this.frame.height, this.frame.fps, this.args.pixels));
    this.write(0, first);
    await ready;
  }

  private startError(message: string, cause?: unknown): RecordingStartError {
    const missing = (cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    const tail = this.stderrTail ? `\n${this.stderrTail}` : '';
    return new RecordingStartError(missing ? 'ffmpeg was not found' : `${message}${tail}`, {
      hint: missing ? FFMPEG_HINT : 'check the record options; the ffmpeg output above says what it rejected',
      cause,
    });
  }

  private onExit(code: number | null, signal: string | null): void {
    if (this.exited) return;
    const tail = this.stderrTail;
    this.exited = {
      code,
      signal,
      killedByUs: this.killedByUs,
      stderrTail: tail,
      diskFull: this.noSpace,
      interrupted: /received signal (2|15)/.test(tail),
    };
    for (const w of this.exitWaiters.splice(0)) w(this.exited);
    if (!this.ending && !this.killedByUs) this.onUnexpectedExit?.(this.exited);
  }

  /**
   * Writes picture `index` of this segment; `rgba` is not kept (copied or converted), so the caller
   * may reuse it. False: ffmpeg is behind, wait for drain().
   */
  write(index: number, rgba: Buffer): boolean {
    const stdin = this.proc?.stdin;
    if (!stdin || this.exited || stdin.destroyed) return true;
    const bytes = this.yuv ? this.yuv.frameBytes : this.frame.width * this.frame.height * 4;
    // Reused buffers: a fresh 4 MB one a frame costs ~4 ms of page faults.
    const out = this.spare.pop() ?? Buffer.allocUnsafeSlow(bytes);
    if (this.yuv) this.yuv.convert(rgba, out);
    else rgba.copy(out, 0, 0, bytes);
    stdin.write(mkvFramePrefix(frameTicks(index, this.frame.fps), bytes));
    return stdin.write(out, () => {
      if (this.spare.length < 4) this.spare.push(out);
    });
  }

  /** Resolves when ffmpeg has taken what was written, or has gone. */
  drain(): Promise<void> {
    const stdin = this.proc?.stdin;
    if (!stdin || this.exited || !stdin.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        this.exitWaiters = this.exitWaiters.filter((w) => w !== done);
        resolve();
      };
      stdin.once('drain', done);
      stdin.once('close', done);
      this.exitWaiters.push(done);
    });
  }

  private waitExit(timeoutMs: number): Promise<EncoderExit | undefined> {
    if (this.exited || !this.proc) return Promise.resolve(this.exited);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.exitWaiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  /** Closes stdin so ffmpeg finishes the file; SIGKILL if it takes longer than `timeoutMs`. */
  async finish(timeoutMs: number): Promise<{ exit?: EncoderExit; killed: boolean }> {
    this.ending = true;
    this.proc?.stdin?.end();
    const exit = await this.waitExit(timeoutMs);
    if (exit) return { exit, killed: false };
    this.log.warn('ffmpeg did not finish in time, killing it', { pid: this.proc?.pid, timeoutMs });
    this.kill('SIGKILL');
    return { exit: await this.waitExit(2000), killed: true };
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.proc || this.exited) return;
    this.killedByUs = true;
    this.proc.kill(signal);
  }
}
