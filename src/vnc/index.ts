/**
 * The guest's screen, keyboard and mouse over VNC: an always-current RGBA mirror,
 * Playwright-style input, openQA-style screen matching and OCR.
 */
export { VncClient, type VncClientOptions } from './client.js';
export type { VncEndpoint } from './session.js';
export { Keyboard } from './keyboard.js';
export { Mouse, type ClickEvent } from './mouse.js';
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
export { keysymFor, parseKeyCombo, type KeyStroke } from './keys.js';
