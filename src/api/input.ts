import type { Keyboard, Mouse } from '../vnc/index.js';
import { preview, type StepRunner } from './steps.js';

type Button = 'left' | 'right' | 'middle';
type Point = { x: number; y: number };

/** vm.keyboard: the VNC keyboard, with every action shown as a step in reports. */
export class VmKeyboard {
  constructor(
    private readonly keyboard: Keyboard,
    private readonly step: () => StepRunner,
  ) {}

  type(text: string, options?: { delay?: number }): Promise<void> {
    return this.step()(`type ${preview(text)}`, () => this.keyboard.type(text, options));
  }
  press(key: string, options?: { delay?: number }): Promise<void> {
    return this.step()(`press ${key}`, () => this.keyboard.press(key, options));
  }
  down(key: string): Promise<void> {
    return this.step()(`key down ${key}`, () => this.keyboard.down(key));
  }
  up(key: string): Promise<void> {
    return this.step()(`key up ${key}`, () => this.keyboard.up(key));
  }
  /** Presses in order, releases in reverse (the spec's keyCombo). */
  combo(...keys: string[]): Promise<void> {
    return this.step()(`press ${keys.join('+')}`, () => this.keyboard.combo(...keys));
  }
}

/** vm.mouse: the absolute (USB tablet) pointer, with every action shown as a step. */
export class VmMouse {
  constructor(
    private readonly mouse: Mouse,
    private readonly step: () => StepRunner,
  ) {}

  get position(): Point {
    return this.mouse.position;
  }
  move(x: number, y: number, options?: { steps?: number; duration?: number }): Promise<void> {
    return this.step()(`move mouse to ${x},${y}`, () => this.mouse.move(x, y, options));
  }
  click(x: number, y: number, options?: { button?: Button; clickCount?: number; delay?: number }): Promise<void> {
    const what = options?.button && options.button !== 'left' ? `${options.button}-click` : 'click';
    return this.step()(`${what} ${x},${y}`, () => this.mouse.click(x, y, options));
  }
  dblclick(x: number, y: number, options?: { button?: Button; delay?: number }): Promise<void> {
    return this.step()(`double-click ${x},${y}`, () => this.mouse.dblclick(x, y, options));
  }
  down(options?: { button?: Button }): Promise<void> {
    return this.step()(`mouse down ${options?.button ?? 'left'}`, () => this.mouse.down(options));
  }
  up(options?: { button?: Button }): Promise<void> {
    return this.step()(`mouse up ${options?.button ?? 'left'}`, () => this.mouse.up(options));
  }
  drag(from: Point, to: Point, options?: { steps?: number }): Promise<void> {
    return this.step()(`drag ${from.x},${from.y} → ${to.x},${to.y}`, () => this.mouse.drag(from, to, options));
  }
  wheel(deltaX: number, deltaY: number): Promise<void> {
    return this.step()(`wheel ${deltaX},${deltaY}`, () => this.mouse.wheel(deltaX, deltaY));
  }
}
