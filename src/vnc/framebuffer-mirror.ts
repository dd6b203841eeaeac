/**
 * The RGBA copy of the guest screen that every screenshot, match and recording reads. It is
 * painted from the rectangles of one RFB session and knows when it can be trusted: only once
 * a session has covered every pixel ("primed"), since a fresh or resized mirror is black.
 */
import type { CursorImage, Frame } from '../frames.js';
import type { Size } from '../geometry.js';
import { blitRect, cursorToRgba, type PixelFormat } from './pixels.js';
import type { Rfb2Rect } from './rfb2.js';

/** What the mirror reports; called inside rfb2's parser, so they must not throw. */
export interface MirrorEvents {
  /** The picture changed: `version` is the new version. */
  update(version: number): void;
  /** The screen size changed (the mirror was reallocated, black until pixels arrive). */
  resize(size: Size): void;
  /** The server sent a new pointer shape. */
  cursor(cursor: CursorImage): void;
}

export class FramebufferMirror {
  private current: Frame = { width: 0, height: 0, rgba: Buffer.alloc(0) };
  private _version = 0;
  private _cursor?: CursorImage;
  private _primed = false;
  /** Pixels painted since the last full update request: primed once it reaches the screen's area. */
  private coverage = 0;
  /** Pixels changed since the last version bump. */
  private damaged = false;
  /** The server resized the screen: the next request must ask for every pixel again. */
  private needFull = false;
  /** Pixels painted since refresh was asked for (undefined: none asked). */
  private refreshCoverage: number | undefined;
  private _refreshes = 0;

  constructor(private readonly events: MirrorEvents) {}

  /** The live RGBA mirror, not a copy: it changes under you and is replaced on resize. */
  get frame(): Frame {
    return this.current;
  }
  get width(): number {
    return this.current.width;
  }
  get height(): number {
    return this.current.height;
  }
  /** Goes up by one whenever the picture changes (once per FramebufferUpdate that painted something). */
  get version(): number {
    return this._version;
  }
  get cursor(): CursorImage | undefined {
    return this._cursor;
  }
  /** Every pixel has been painted by the current session: the mirror shows the real screen. */
  get primed(): boolean {
    return this._primed;
  }
  /** Goes up by one each time every pixel has been painted again since startRefresh(). */
  get refreshes(): number {
    return this._refreshes;
  }

  /** A full update was asked for: refreshes goes up once it has painted every pixel. */
  startRefresh(): void {
    this.refreshCoverage = 0;
  }

  /** A new session of `size` starts: it must paint every pixel again before the mirror is trusted. */
  restart(size: Size): void {
    this._primed = false;
    this.coverage = 0;
    this.needFull = false;
    this.resize(size);
  }

  /** The session died: nothing new arrives until the next restart(). */
  lost(): void {
    this._primed = false;
  }

  /** Paints a Raw rectangle in the server's pixel format. */
  paint(rect: Rfb2Rect & { data: Buffer }, format: PixelFormat): void {
    blitRect(this.current, rect, format);
    this.coverage += rect.width * rect.height;
    if (this.refreshCoverage !== undefined) this.refreshCoverage += rect.width * rect.height;
    this.damaged = true;
  }

  /** Takes a Cursor pseudo-encoding rectangle (its x, y are the hotspot). */
  setCursor(rect: Rfb2Rect, format: PixelFormat): void {
    if (rect.width === 0 || rect.height === 0 || !rect.data || !rect.mask) {
      // an empty cursor means "hidden": a transparent pixel is simpler for consumers than undefined
      this._cursor = { width: 1, height: 1, hotX: 0, hotY: 0, rgba: Buffer.alloc(4) };
    } else {
      const rgba = cursorToRgba(rect.width, rect.height, rect.data, rect.mask, format);
      this._cursor = { width: rect.width, height: rect.height, hotX: rect.x, hotY: rect.y, rgba };
    }
    this.events.cursor(this._cursor);
  }

  /** The server changed the screen size (DesktopSize). */
  serverResized(size: Size): void {
    this.resize(size);
    this.needFull = true;
    this.coverage = 0;
  }

  /**
   * A FramebufferUpdate ended: bumps the version if anything was painted.
   * @returns whether the next update request may be incremental (false after a resize).
   */
  endUpdate(): boolean {
    if (this.damaged) {
      this.damaged = false;
      this.bump();
    }
    if (!this._primed && this.coverage >= this.width * this.height) this._primed = true;
    if (this.refreshCoverage !== undefined && this.refreshCoverage >= this.width * this.height) {
      this.refreshCoverage = undefined;
      this._refreshes++;
    }
    const incremental = !this.needFull;
    if (this.needFull) this.coverage = 0;
    this.needFull = false;
    return incremental;
  }

  private resize({ width, height }: Size): void {
    if (width === this.current.width && height === this.current.height) return;
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255; // opaque black until pixels arrive
    this.current = { width, height, rgba };
    this.events.resize({ width, height });
    this.bump();
  }

  private bump(): void {
    this._version++;
    this.events.update(this._version);
  }
}
