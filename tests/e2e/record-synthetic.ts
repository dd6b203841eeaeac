/**
 * A FrameSource the tests drive by hand: a pattern that encodes a "phase" number in
 * colors and a square's position, so a frame pulled from the video can be checked.
 */
import { randomFillSync } from 'node:crypto';
import type { CursorImage, Frame, FrameSource, InputEvent, InputSource } from '../../src/frames.js';

export const PALETTE: [number, number, number][] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
];

export class SyntheticSource implements FrameSource, InputSource {
  width: number;
  height: number;
  version = 0;
  pointer = { x: 10, y: 10 };
  cursor?: CursorImage;
  connected = true;
  phase = 0;
  /** performance.now() of the first frame() call: the video's t = 0. */
  firstFrameAt?: number;
  frameCalls = 0;
  private rgba: Buffer;
  private listeners = new Set<(e: InputEvent) => void>();

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.rgba = Buffer.alloc(width * height * 4);
    this.paint();
  }

  frame(): Frame {
    this.firstFrameAt ??= performance.now();
    this.frameCalls++;
    if (!this.connected) throw new Error('synthetic source is disconnected');
    return { width: this.width, height: this.height, rgba: this.rgba };
  }

  setPhase(phase: number): void {
    this.phase = phase;
    this.paint();
  }

  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.rgba = Buffer.alloc(width * height * 4);
    this.paint();
  }

  movePointer(x: number, y: number): void {
    this.pointer = { x, y };
  }

  onInput(listener: (e: InputEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get inputListeners(): number {
    return this.listeners.size;
  }

  emit(e: InputEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Left half PALETTE[phase], right half PALETTE[phase+3], white square moving with phase. */
  paint(): void {
    const { width: w, height: h, rgba } = this;
    const left = PALETTE[this.phase % 8]!;
    const right = PALETTE[(this.phase + 3) % 8]!;
    const sq = Math.max(8, Math.floor(h / 8));
    const sx = (this.phase * 13) % Math.max(1, w - sq);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        const inSquare = x >= sx && x < sx + sq && y >= h - sq - 4 && y < h - 4;
        const c: [number, number, number] = inSquare ? [255, 255, 255] : x < w / 2 ? left : right;
        rgba[i] = c[0];
        rgba[i + 1] = c[1];
        rgba[i + 2] = c[2];
        rgba[i + 3] = 255;
      }
    }
    this.version++;
  }
}

/**
 * A screen of fresh random pixels, changing `fps` times a second: incompressible, so the
 * segments grow fast (to fill a small disk for real).
 */
export class NoiseSource implements FrameSource {
  version = 0;
  pointer = { x: 10, y: 10 };
  connected = true;
  private readonly rgba: Buffer;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgba = Buffer.alloc(width * height * 4);
    this.next();
  }

  frame(): Frame {
    return { width: this.width, height: this.height, rgba: this.rgba };
  }

  next(): void {
    randomFillSync(this.rgba);
    this.version++;
  }

  start(fps = 30): this {
    this.timer ??= setInterval(() => this.next(), 1000 / fps);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
