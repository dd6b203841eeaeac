/**
 * Playwright-style mouse over VNC with an absolute pointer (QEMU usb-tablet). Moves glide
 * along an eased path so they look human in the video.
 */
import { UsageError } from '../errors.js';
import { now, sleep } from '../timeouts.js';
import type { VncClient } from './client.js';
import { easedPath, movePlan } from './path.js';
import type { MouseButton, Point } from '../geometry.js';

/** VNC button-mask bits. */
export const ButtonMask = { left: 1, middle: 2, right: 4, wheelUp: 8, wheelDown: 16, wheelLeft: 32, wheelRight: 64 } as const;

/** Pause between the clicks of a double click: well inside any double-click interval. */
const MULTI_CLICK_GAP_MS = 60;
/** Pause between wheel notches, so the guest sees each as its own event. */
const WHEEL_GAP_MS = 20;
/** One wheel notch per this many units of delta, as browsers scroll ~100 px per notch. */
const WHEEL_UNITS_PER_NOTCH = 100;

/** One button press, where it happened. */
export interface ClickEvent extends Point {
  button: MouseButton;
}

export class Mouse {
  private buttons = 0;
  private readonly listeners = new Set<(e: ClickEvent) => void>();

  constructor(private readonly client: VncClient) {}

  get position(): Point {
    return { ...this.client.pointer };
  }

  async move(x: number, y: number, options: { steps?: number; duration?: number } = {}): Promise<void> {
    const target = this.clamp(x, y);
    const { steps, duration } = movePlan(options);
    const interval = steps > 1 ? duration / steps : 0;
    const path = easedPath(this.position, target, steps);
    const start = now();
    for (const [i, point] of path.entries()) {
      await this.client.sendPointer(point.x, point.y, this.buttons);
      // pace against the clock so slow sends don't stretch the glide
      const due = start + (i + 1) * interval - now();
      if (i < path.length - 1 && due > 0) await sleep(due);
    }
  }

  async click(x: number, y: number, options: { button?: MouseButton; clickCount?: number; delay?: number } = {}): Promise<void> {
    const button = options.button ?? 'left';
    const count = Math.max(1, Math.floor(options.clickCount ?? 1));
    await this.move(x, y);
    for (let i = 0; i < count; i++) {
      if (i > 0) await sleep(MULTI_CLICK_GAP_MS);
      await this.down({ button });
      if (options.delay) await sleep(options.delay);
      await this.up({ button });
    }
  }

  dblclick(x: number, y: number, options: { button?: MouseButton; delay?: number } = {}): Promise<void> {
    return this.click(x, y, { ...options, clickCount: 2 });
  }

  async down(options: { button?: MouseButton } = {}): Promise<void> {
    const button = options.button ?? 'left';
    this.buttons |= maskOf(button);
    const { x, y } = this.position;
    await this.client.sendPointer(x, y, this.buttons);
    for (const l of this.listeners) l({ x, y, button });
  }

  async up(options: { button?: MouseButton } = {}): Promise<void> {
    this.buttons &= ~maskOf(options.button ?? 'left');
    const { x, y } = this.position;
    await this.client.sendPointer(x, y, this.buttons);
  }

  /** Move to `from`, press, glide to `to` (in `steps`, default a 500 ms glide), release. */
  async drag(from: Point, to: Point, options: { steps?: number } = {}): Promise<void> {
    await this.move(from.x, from.y);
    await this.down();
    await this.move(to.x, to.y, options.steps !== undefined ? { steps: options.steps } : { duration: 500 });
    await this.up();
  }

  /** Scrolls by wheel notches: one per 100 units (at least one when non-zero). Positive y = down, positive x = right. */
  async wheel(deltaX: number, deltaY: number): Promise<void> {
    await this.notches(deltaY, ButtonMask.wheelUp, ButtonMask.wheelDown);
    await this.notches(deltaX, ButtonMask.wheelLeft, ButtonMask.wheelRight);
  }

  /** For the recorder's click rings: one event per button press. */
  onClick(listener: (e: ClickEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async notches(delta: number, negative: number, positive: number): Promise<void> {
    if (!Number.isFinite(delta)) throw new UsageError(`wheel delta must be a number, got ${delta}`);
    const n = wheelNotches(delta);
    const bit = delta < 0 ? negative : positive;
    const { x, y } = this.position;
    for (let i = 0; i < n; i++) {
      if (i > 0) await sleep(WHEEL_GAP_MS);
      await this.client.sendPointer(x, y, this.buttons | bit);
      await this.client.sendPointer(x, y, this.buttons);
    }
  }

  private clamp(x: number, y: number): Point {
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new UsageError(`mouse position must be numbers, got ${x},${y}`);
    const w = Math.max(1, this.client.width);
    const h = Math.max(1, this.client.height);
    return { x: Math.min(Math.max(0, Math.round(x)), w - 1), y: Math.min(Math.max(0, Math.round(y)), h - 1) };
  }
}

export function wheelNotches(delta: number): number {
  if (delta === 0) return 0;
  return Math.max(1, Math.round(Math.abs(delta) / WHEEL_UNITS_PER_NOTCH));
}

function maskOf(button: MouseButton): number {
  const m = ButtonMask[button];
  if (m === undefined) throw new UsageError(`unknown mouse button ${JSON.stringify(button)}`, "use 'left', 'right' or 'middle'");
  return m;
}
