/**
 * The guest's screen, keyboard and mouse over VNC: an always-current RGBA mirror,
 * Playwright-style input, openQA-style screen matching and OCR.
 */
export { VncClient } from './client.js';
export type { VncEndpoint } from './session.js';
export { Keyboard } from './keyboard.js';
export { Mouse } from './mouse.js';
export { Screen, DEFAULT_THRESHOLD, type ScreenMatch, type MatchOptions } from './screen.js';
export {
  compareScreenshots,
  maskScreenshot,
  boxesRelativeTo,
  validateCompareOptions,
  type ScreenshotCompareOptions,
  type ScreenshotComparison,
} from './compare.js';
export { VncError, VncConnectError, VncDisconnectedError, ScreenMatchTimeoutError, KeyNameError } from './errors.js';
export { keysymFor, parseKeyCombo } from './keys.js';
