import type { Keyboard, Mouse } from '../vnc/index.js';
import { preview, type StepRunner } from './steps.js';

import type { MouseButton as Button, Point } from '../geometry.js';

/** vm.keyboard: the VNC keyboard, with every action shown as a step in reports. */
export class VmKeyboard {
  /** @internal Built by the Vm. */
  constructor(
    private readonly keyboard: Keyboard,
    private readonly step: () => StepRunner,
  ) {}

  /**
   * Types `text`: every printable ASCII character, `\n` and `\t`, `delay` ms a key (default 100, human-like; 0 loses nothing).
   * @throws {@link KeyNameError} for a character that can't be typed (before any key is sent).
   */
  type(text: string, options?: { delay?: number }): Promise<void> {
    return this.step()(`type ${preview(text)}`, () => this.keyboard.type(text, options));
  }
  /**
   * Presses and releases a key or combination in Playwright's names ('Enter', 'Control+Alt+T').
   * @throws {@link KeyNameError} for an unknown key name.
   */
  press(key: string, options?: { delay?: number }): Promise<void> {
    return this.step()(`press ${key}`, () => this.keyboard.press(key, options));
  }
  /** Holds `key` down until `up(key)`. @throws {@link KeyNameError} for an unknown key name. */
  down(key: string): Promise<void> {
    return this.step()(`key down ${key}`, () => this.keyboard.down(key));
  }
  /** Releases `key`. @throws {@link KeyNameError} for an unknown key name. */
  up(key: string): Promise<void> {
    return this.step()(`key up ${key}`, () => this.keyboard.up(key));
  }
  /** Presses `keys` in order and releases them in reverse. @throws {@link KeyNameError} for an unknown key name. */
  combo(...keys: string[]): Promise<void> {
    return this.step()(`press ${keys.join('+')}`, () => this.keyboard.combo(...keys));
  }
}

/** vm.mouse: the absolute (USB tablet) pointer, with every action shown as a step. */
export class VmMouse {
  /** @internal Built by the Vm. */
  constructor(
    private readonly mouse: Mouse,
    private readonly step: () => StepRunner,
  ) {}

  /** Where the pointer is (the last position sent). */
  get position(): Point {
    return this.mouse.position;
  }
  /**
   * Moves the pointer to (x, y) in `steps` moves over `duration` ms (default 300 ms, so it looks human on video).
   * @throws {@link UsageError} for coordinates off the screen or bad steps/duration.
   */
  move(x: number, y: number, options?: { steps?: number; duration?: number }): Promise<void> {
    return this.step()(`move mouse to ${x},${y}`, () => this.mouse.move(x, y, options));
  }
  /** Moves to (x, y) and clicks `button` (default left) `clickCount` times. @throws {@link UsageError} for bad coordinates. */
  click(x: number, y: number, options?: { button?: Button; clickCount?: number; delay?: number }): Promise<void> {
    const what = options?.button && options.button !== 'left' ? `${options.button}-click` : 'click';
    return this.step()(`${what} ${x},${y}`, () => this.mouse.click(x, y, options));
  }
  /** Moves to (x, y) and double-clicks. @throws {@link UsageError} for bad coordinates. */
  dblclick(x: number, y: number, options?: { button?: Button; delay?: number }): Promise<void> {
    return this.step()(`double-click ${x},${y}`, () => this.mouse.dblclick(x, y, options));
  }
  /** Presses `button` (default left) where the pointer is. */
  down(options?: { button?: Button }): Promise<void> {
    return this.step()(`mouse down ${options?.button ?? 'left'}`, () => this.mouse.down(options));
  }
  /** Releases `button` (default left) where the pointer is. */
  up(options?: { button?: Button }): Promise<void> {
    return this.step()(`mouse up ${options?.button ?? 'left'}`, () => this.mouse.up(options));
  }
  /** Presses the left button at `from`, moves to `to` in `steps` moves, and releases. @throws {@link UsageError} for bad coordinates or steps. */
  drag(from: Point, to: Point, options?: { steps?: number }): Promise<void> {
    return this.step()(`drag ${from.x},${from.y} → ${to.x},${to.y}`, () => this.mouse.drag(from, to, options));
  }
  /** Scrolls by (deltaX, deltaY) where the pointer is: positive deltaY scrolls down. */
  wheel(deltaX: number, deltaY: number): Promise<void> {
    return this.step()(`wheel ${deltaX},${deltaY}`, () => this.mouse.wheel(deltaX, deltaY));
  }
}
