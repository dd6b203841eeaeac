import type { MatchOptions, Screen } from '../vnc/index.js';
import type { SerialConsole } from './serial.js';
import type { Deadline } from '../timeouts.js';
import { sleep } from '../timeouts.js';
import { UsageError } from '../errors.js';

/**
 * When is a guest ready for input?
 * - 'auto' (default): the image's serial marker, then the screen unchanged for `settleMs`;
 *   images without a marker: the screen unchanged for the longer `settleMs` of 'settle'.
 * - 'serial': the marker only.  - 'settle': screen stability only.
 * - 'fixed': VNC answers, then a fixed wait (`fixedMs`, 10 s by default), for guests that print no marker and never settle.
 * - 'needle': a reference image shows on the screen (`needle`: "the desktop's Start button is
 *   visible"), then the screen settles for `settleMs` (500 ms by default). For a guest of your own
 *   that prints nothing on a serial port and whose screen settles before it is really up (a
 *   boot menu's pause, a splash screen). Giving `needle` picks this strategy.
 */
export type ReadyStrategy = 'auto' | 'serial' | 'settle' | 'fixed' | 'needle';

export interface ReadyOptions {
  strategy?: ReadyStrategy;
  /** How long the screen must stay unchanged. Default 500 ms after a marker, 2000 ms without one. */
  settleMs?: number;
  /** The fixed wait of the 'fixed' strategy (default 10 s). */
  fixedMs?: number;
  /** What shows when the guest is ready: a PNG path or buffer, as for `vm.waitForScreen`. */
  needle?: string | Buffer;
  /** How the needle is matched (region, exclude, threshold, margin), as for `vm.waitForScreen`. */
  needleMatch?: MatchOptions;
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
  const strategy = options.strategy ?? (options.needle ? 'needle' : 'auto');
  const { screen, serial, marker, deadline } = ctx;
  if (strategy === 'needle') return waitForNeedle(screen, deadline, options);
  if (strategy === 'fixed') return sleep(Math.min(options.fixedMs ?? READY_DEFAULTS.fixedMs, deadline.remaining()));
  const useMarker = marker && (strategy === 'auto' || strategy === 'serial');
  if (useMarker) await serial.waitFor(new RegExp(marker), { timeout: deadline.remaining() });
  if (strategy === 'serial') return;
  const settle = options.settleMs ?? (useMarker ? READY_DEFAULTS.settleAfterMarkerMs : READY_DEFAULTS.settleMs);
  await screen.waitForStableScreen({ duration: settle, timeout: deadline.remaining(), ignorePixels: READY_DEFAULTS.cursorPixels });
}

async function waitForNeedle(screen: Screen, deadline: Deadline, options: ReadyOptions): Promise<void> {
  if (!options.needle) throw new UsageError("ready: { strategy: 'needle' } needs a needle", "ready: { needle: 'tests/needles/desktop-start-button.png' }");
  await screen.waitForScreen(options.needle, { ...options.needleMatch, timeout: deadline.remaining() });
  const settle = options.settleMs ?? READY_DEFAULTS.settleAfterMarkerMs;
  await screen.waitForStableScreen({ duration: settle, timeout: deadline.remaining(), ignorePixels: READY_DEFAULTS.cursorPixels });
}
