/**
 * demotool/compat: the original design's flat verb names, for scripts ported from it.
 *
 * `withOriginalNames(vm)` returns those verbs, each implemented with the Vm's own API, so
 * they are shown as steps and checked like it. New code should use the Vm directly
 * (`vm.keyboard.press`, `vm.mouse.drag`, `vm.waitForScreen`, ...).
 *
 * @packageDocumentation
 */
import type { Vm, MatchOptions, ScreenMatch } from '../api/internal.js';
import type { MouseButton } from '../geometry.js';

/** The parts of a `Vm` the original verbs are built on. */
export type CompatVm = Pick<Vm, 'keyboard' | 'mouse' | 'pause' | 'screenshot' | 'waitForScreen'>;

/** The original design's verbs, as returned by {@link withOriginalNames}. */
export interface OriginalNames {
  /** Types `text` with a delay between keys (default 100 ms): `vm.keyboard.type`. */
  type(text: string, options?: { delay?: number }): Promise<void>;
  /** Presses and releases one key or combination ('Enter', 'Control+c'): `vm.keyboard.press`. */
  keyPress(key: string): Promise<void>;
  /** Holds a key down: `vm.keyboard.down`. */
  keyDown(key: string): Promise<void>;
  /** Releases a held key: `vm.keyboard.up`. */
  keyUp(key: string): Promise<void>;
  /** Presses `keys` in order and releases them in reverse: `vm.keyboard.combo`. */
  keyCombo(...keys: string[]): Promise<void>;
  /** Waits `ms` milliseconds: `vm.pause`. */
  pause(ms: number): Promise<void>;
  /** Moves the pointer to (x, y) in one move: `vm.mouse.move`. */
  move(x: number, y: number): Promise<void>;
  /**
   * Drags from where the pointer is to (x, y), moving `step` PIXELS at a time (default 10).
   * Differs from `vm.mouse.drag(from, to, { steps })`, whose `steps` counts MOVES.
   */
  mouseDrag(x: number, y: number, step?: number): Promise<void>;
  /** Clicks `button` (default left) where the pointer is. */
  mousePress(button?: MouseButton): Promise<void>;
  /**
   * Clicks at (x, y), or where the pointer is when they are left out (`vm.mouse.click`
   * requires them). A missing coordinate keeps the pointer's.
   */
  click(x?: number, y?: number, options?: { button?: MouseButton }): Promise<void>;
  /** A PNG of the screen, also written to `path` when given: `vm.screenshot`. */
  captureScreen(path?: string): Promise<Buffer>;
  /**
   * Waits until `image` shows with an error of at most `maxrms` (0..1, default 0.05):
   * `vm.waitForScreen(image, { threshold: 1 - maxrms })`, with its default timeout.
   */
  expectScreen(image: string | Buffer, maxrms?: number, options?: MatchOptions & { timeout?: number }): Promise<ScreenMatch>;
  /**
   * GNOME's lock-and-unlock key sequence: Super+L, a second, Space, a second, Backspace
   * twice, `password`, Enter. It assumes GNOME's lock screen, which none of demotool's
   * built-in images has; on other desktops it just sends those keys.
   */
  gnomeLockUnlock(password: string): Promise<void>;
}

/**
 * The original design's verbs on top of `vm`'s API.
 *
 * @example
 *   const v = withOriginalNames(vm);
 *   await v.keyCombo('Control', 'c');
 *   await v.mouseDrag(400, 300, 5);
 */
export function withOriginalNames(vm: CompatVm): OriginalNames {
  const { keyboard, mouse } = vm;
  return {
    type: (text, options) => keyboard.type(text, options),
    keyPress: (key) => keyboard.press(key),
    keyDown: (key) => keyboard.down(key),
    keyUp: (key) => keyboard.up(key),
    keyCombo: (...keys) => keyboard.combo(...keys),
    pause: (ms) => vm.pause(ms),
    move: (x, y) => mouse.move(x, y),
    mouseDrag: (x, y, step = 10) => {
      const from = mouse.position;
      return mouse.drag(from, { x, y }, { steps: movesFor(from, { x, y }, step) });
    },
    mousePress: (button = 'left') => {
      const { x, y } = mouse.position;
      return mouse.click(x, y, { button });
    },
    click: (x, y, options) => {
      const at = mouse.position;
      return mouse.click(x ?? at.x, y ?? at.y, options);
    },
    captureScreen: (path) => vm.screenshot(path === undefined ? undefined : { path }),
    expectScreen: (image, maxrms = 0.05, options) => vm.waitForScreen(image, { ...options, threshold: 1 - maxrms }),
    gnomeLockUnlock: async (password) => {
      await keyboard.press('Super+L');
      await vm.pause(1000);
      await keyboard.press('Space');
      await vm.pause(1000);
      await keyboard.press('Backspace');
      await keyboard.press('Backspace');
      await keyboard.type(password);
      await keyboard.press('Enter');
    },
  };
}

/** How many moves a drag of `stepPixels` pixels a move takes from `from` to `to` (at least one). */
function movesFor(from: { x: number; y: number }, to: { x: number; y: number }, stepPixels: number): number {
  return Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) / Math.max(1, stepPixels)));
}
