import { Deadline, now } from '../timeouts.js';
import type { Logger } from '../log.js';
import type { Frame } from '../frames.js';
import type { FrameComposer } from './frame-composer.js';
import { applyPlan, dueIndex, planTick, slotTime, totalFrames, type FrameCounts } from './schedule.js';

/** While the screen is still, the last picture is sent again this often (seconds). */
const KEEPALIVE_SEC = 0.5;

/** Where the pump sends its pictures: frame `index` of the recording. */
export interface FrameSink {
  write(index: number, picture: Frame): Promise<void>;
}

/**
 * The recording's clock: frame n is due at t0 + n/fps. On each slot it sends the composed
 * picture when it changed, stamped with its slot; ffmpeg's fps filter repeats it in between,
 * so the video is constant-rate and as long as the section. Counts sent, repeated and dropped
 * frames.
 */
export class FramePump {
  private t0 = 0;
  /** Last frame index accounted for. */
  private lastIndex = -1;
  /** Last frame index actually written. */
  private lastSentIndex = -1;
  private lastPicture?: Frame;
  private counts: FrameCounts = { sent: 0, duplicated: 0, dropped: 0 };
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private running = false;

  constructor(
    private readonly composer: FrameComposer,
    private readonly sink: FrameSink,
    private readonly fps: number,
    private readonly log: Logger,
  ) {}

  /** The first picture, frame 0, composed at `t0` (and written by whoever started the sink). */
  begin(t0: number, first: Frame): void {
    this.t0 = t0;
    this.lastIndex = 0;
    this.lastSentIndex = 0;
    this.lastPicture = first;
    this.counts = { sent: 1, duplicated: 0, dropped: 0 };
  }

  get startedAt(): number {
    return this.t0;
  }

  /** The next frame index: where a recording that ends now ends. */
  get nextIndex(): number {
    return this.lastIndex + 1;
  }

  get frameCounts(): Readonly<FrameCounts> {
    return this.counts;
  }

  /** The last picture sent, for the poster. */
  get picture(): Frame | undefined {
    return this.lastPicture;
  }

  run(): void {
    this.running = true;
    this.schedule();
  }

  halt(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The sink broke: the next slot is sent to `restart` (which starts a new one) with the
   * current picture, or the last one if there is none.
   */
  restartSink(restart: (index: number, picture: Frame) => Promise<void>): void {
    const index = this.lastIndex + 1;
    this.lastIndex = index;
    this.counts = applyPlan(this.counts, { index, send: true, duplicated: 0, dropped: 0 });
    this.track(
      (async () => {
        const picture = (await this.composer.compose(now()).catch(() => undefined)) ?? this.lastPicture;
        if (!picture) return;
        this.lastPicture = picture;
        this.lastSentIndex = index;
        await restart(index, picture);
      })(),
    );
  }

  /** Waits (up to `timeoutMs`) for the picture being composed or written. */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = new Deadline(timeoutMs, 'the last frame being written');
    while (this.inflight && !deadline.expired()) {
      await Promise.race([this.inflight, new Promise((r) => setTimeout(r, Math.max(1, deadline.remaining())))]);
    }
  }

  /** One more frame at `tEnd`, so the video lasts as long as the section did. */
  async sendLastFrame(tEnd: number): Promise<void> {
    const total = totalFrames(this.t0, tEnd, this.fps, this.lastIndex);
    const last = total - 1;
    const changed = this.composer.changed(tEnd);
    if (last > this.lastIndex) {
      this.counts.duplicated += last - this.lastIndex - (changed ? 1 : 0);
      if (changed) this.counts.sent++;
      this.lastIndex = last;
    }
    // ffmpeg only knows how long the last picture lasts if a frame marks the end.
    if (last <= this.lastSentIndex) return;
    const picture = (changed ? await this.composer.compose(tEnd) : undefined) ?? this.lastPicture;
    if (!picture) return;
    this.lastPicture = picture;
    await this.write(last, picture);
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = slotTime(this.t0, this.lastIndex + 1, this.fps) - now();
    this.timer = setTimeout(this.tick, Math.max(0, Math.ceil(delay)));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const t = now();
    const plan = planTick({
      lastIndex: this.lastIndex,
      due: dueIndex(this.t0, t, this.fps),
      changed: this.composer.changed(t),
      busy: !!this.inflight,
    });
    if (plan) {
      this.lastIndex = plan.index;
      this.counts = applyPlan(this.counts, plan);
      if (plan.send) this.track(this.send(plan.index, t));
      else if (!this.inflight && this.lastPicture && plan.index - this.lastSentIndex >= this.fps * KEEPALIVE_SEC) {
        // Re-send the unchanged picture now and then: ffmpeg stays current (a fast stop,
        // and a killed ffmpeg has written almost everything).
        this.track(this.write(plan.index, this.lastPicture));
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

  private async send(index: number, t: number): Promise<void> {
    try {
      const picture = await this.composer.compose(t);
      if (!picture) return;
      this.lastPicture = picture;
      await this.write(index, picture);
    } catch (err) {
      this.log.warn('frame skipped', { index, error: err });
    }
  }

  private async write(index: number, picture: Frame): Promise<void> {
    this.lastSentIndex = index;
    await this.sink.write(index, picture);
  }
}
