import sharp from 'sharp';
import type { Logger } from '../log.js';
import type { CursorImage, Frame, FrameSource, InputEvent, InputSource } from '../frames.js';
import type { Size } from '../geometry.js';
import { builtinArrow, compositeCursor, sameCursor } from './cursor.js';
import { Overlays } from './overlays.js';

/** What a recording reads: the screen, and the input events when it draws keycast or click rings. */
export type RecordedSource = FrameSource & Partial<InputSource>;

export interface ComposeOptions {
  cursor: boolean;
  keycast: boolean;
  clickRings: boolean;
}

/**
 * Makes the pictures a recording sends: a copy of the source's screen with the overlays
 * (keycast, click rings) and the pointer drawn in, at the first frame's size, and says whether
 * the screen changed since the last copy.
 */
export class FrameComposer {
  private sentVersion = NaN;
  private sentPointer = { x: NaN, y: NaN };
  private sentCursor?: CursorImage;
  private overlays: Overlays;
  private size?: Size;
  /** Two picture buffers, used in turn: the last picture stays intact while the next is made. */
  private buffers: Buffer[] = [];

  constructor(
    private readonly source: RecordedSource,
    private readonly opts: ComposeOptions,
    private readonly log: Logger,
  ) {
    this.overlays = new Overlays({ keycast: opts.keycast, clickRings: opts.clickRings, frameWidth: 0 });
  }

  /** Fixes the video's size (the first frame's): later frames of another size are letterboxed into it. */
  setSize(size: Size): void {
    this.size = size;
    this.overlays = new Overlays({ keycast: this.opts.keycast, clickRings: this.opts.clickRings, frameWidth: size.width });
  }

  onInput(event: InputEvent, now: number): void {
    this.overlays.onInput(event, now);
  }

  /** Did the picture change since the last one composed? While disconnected the last frame stays (frozen). */
  changed(now: number): boolean {
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

  /** The picture now, or undefined when the source has none (it failed, or gave a broken frame). */
  async compose(now: number): Promise<Frame | undefined> {
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
    const rgba = this.nextBuffer(f.width * f.height * 4);
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
    const size = this.size;
    return size && (pic.width !== size.width || pic.height !== size.height) ? letterbox(pic, size) : pic;
  }

  /**
   * The older of the two buffers. Safe to overwrite: the encoder copies or converts a picture as it
   * is written, and only the newest picture is kept (for repeats and the poster). Reused because a
   * fresh 4 MB buffer a frame costs ~4 ms of page faults.
   */
  private nextBuffer(bytes: number): Buffer {
    const older = this.buffers.length === 2 && this.buffers[0]?.length === bytes ? this.buffers.shift() : undefined;
    const buf = older ?? Buffer.allocUnsafeSlow(bytes);
    if (!older) this.buffers = this.buffers.filter((b) => b.length === bytes).slice(-1);
    this.buffers.push(buf);
    return buf;
  }
}

/** The screen changed size: fit it into the video's size, keeping the aspect ratio. */
async function letterbox(pic: Frame, { width, height }: Size): Promise<Frame> {
  // A screen is opaque: drop alpha so a source with alpha 0 is not premultiplied to black.
  const rgba = await sharp(pic.rgba, { raw: { width: pic.width, height: pic.height, channels: 4 } })
    .removeAlpha()
    .resize(width, height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .ensureAlpha()
    .raw()
    .toBuffer();
  return { width, height, rgba };
}
