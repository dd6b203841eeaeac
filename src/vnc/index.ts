/**
 * The guest's screen, keyboard and mouse over VNC: an always-current RGBA mirror,
 * Playwright-style input, openQA-style screen matching and OCR.
 */
export { VncClient, endpointLabel, type VncClientOptions, type VncEndpoint } from './client.js';
export { Keyboard, DEFAULT_KEY_DELAY_MS } from './keyboard.js';
export { Mouse, type MouseButton, type ClickEvent } from './mouse.js';
export { Screen, type ScreenMatch, type MatchOptions } from './screen.js';
export type { Region, Point } from '../geometry.js';
export { VncError, VncConnectError, VncDisconnectedError, ScreenMatchTimeoutError, KeyNameError } from './errors.js';
export { keysymFor, parseKeyCombo, type KeyStroke } from './keys.js';
