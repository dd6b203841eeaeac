import type { Screen } from '../vnc/index.js';
import type { SerialConsole } from './serial.js';
import type { Deadline } from '../timeouts.js';
import { sleep } from '../timeouts.js';

/**
 * When is a guest ready for input?
 * - 'auto' (default): the image's serial marker, then the screen unchanged for `settleMs`;
 *   images without a marker: the screen unchanged for the longer `settleMs` of 'settle'.
 * - 'serial': the marker only.  - 'settle': screen stability only.
 * - 'fixed': VNC answers, then a fixed wait (`fixedMs`, 10 s by default), for guests that print no marker and never settle.
 */
export type ReadyStrategy = 'auto' | 'serial' | 'settle' | 'fixed';

export interface ReadyOptions {
  strategy?: ReadyStrategy;
  /** How long the screen must stay unchanged. Default 500 ms after a marker, 2000 ms without one. */
  settleMs?: number;
  /** The fixed wait of the 'fixed' strategy (default 10 s). */
  fixedMs?: number;
}

export const READY_DEFAULTS = {
  settleAfterMarkerMs: 500,
  settleMs: 2000,
  fixedMs: 10_000,
  /** A blinking text cursor (VGA: 9x2 px, xterm: ~7x14 px) must not count as the screen changing. */
  cursorPixels: 200,
} as const;

export async function waitUntilReady(
  ctx: { screen: Screen; serial: SerialConsole; marker?: string; deadline: Deadline },
  options: ReadyOptions = {},
): Promise<void> {
  const strategy = options.strategy ?? 'auto';
  const { screen, serial, marker, deadline } = ctx;
  if (strategy === 'fixed') return sleep(Math.min(options.fixedMs ?? READY_DEFAULTS.fixedMs, deadline.remaining()));
  const useMarker = marker && (strategy === 'auto' || strategy === 'serial');
  if (useMarker) await serial.waitFor(new RegExp(marker), { timeout: deadline.remaining() });
  if (strategy === 'serial') return;
  const settle = options.settleMs ?? (useMarker ? READY_DEFAULTS.settleAfterMarkerMs : READY_DEFAULTS.settleMs);
  await screen.waitForStableScreen({ duration: settle, timeout: deadline.remaining(), ignorePixels: READY_DEFAULTS.cursorPixels });
}
