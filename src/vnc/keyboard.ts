/**
 * Playwright-style keyboard over VNC. Every event is awaited until the socket has taken
 * it, so order is strict; type() waits `delay` ms between characters (human-like by
 * default, which also reads well in the recorded video).
 */
import { sleep } from '../timeouts.js';
import type { VncClient } from './client.js';
import { Keysym, comboStrokes, parseKeyCombo, splitCombo, strokeForChar, type KeyStroke } from './keys.js';

/**
 * Default pause between typed characters: about a typist's pace, so typing reads well in the
 * recorded video. Pass `delay: 0` where speed matters more.
 */
const DEFAULT_KEY_DELAY_MS = 100;

/**
 * Pause after every key event. QEMU feeds VNC keys into the guest's PS/2 queue, which
 * holds only 16 scancode bytes and silently drops the rest; when QEMU's main loop or the
 * guest stalls (TCG on a busy host), events sent meanwhile arrive as one burst. Measured
 * on the tiny guest under TCG on a loaded 2-core host, 1050 chars at delay 0: 2 and 5 ms
 * lost keys (including modifier releases, leaving Shift/Control stuck), 10 ms lost none
 * (~33 chars/s).
 */
const KEY_EVENT_GAP_MS = 10;

export class Keyboard {
  private readonly delay: number;
  private readonly eventGap: number;
  private readonly listeners = new Set<(label: string) => void>();

  constructor(
    private readonly client: VncClient,
    /** eventGap: ms after each key event (default KEY_EVENT_GAP_MS); for measuring, mostly. */
    options: { delay?: number; eventGap?: number } = {},
  ) {
    this.delay = options.delay ?? DEFAULT_KEY_DELAY_MS;
    this.eventGap = options.eventGap ?? KEY_EVENT_GAP_MS;
  }

  /** Types printable ASCII, '\n' (Enter) and '\t' (Tab) exactly. Anything else throws before sending. */
  async type(text: string, options: { delay?: number } = {}): Promise<void> {
    const delay = options.delay ?? this.delay;
    const strokes = [...text.replace(/\r\n/g, '\n')].map(strokeForChar);
    for (const [i, stroke] of strokes.entries()) {
      if (i > 0 && delay > 0) await sleep(delay);
      await this.chord([stroke], 0);
      this.announce(stroke.label);
    }
  }

  /** 'Enter', 'Control+Alt+T', 'Shift+Tab', 'a'. `delay` = ms the key is held (default 0). */
  async press(key: string, options: { delay?: number } = {}): Promise<void> {
    const strokes = parseKeyCombo(key);
    await this.chord(strokes, options.delay ?? 0);
    this.announce(labelOf(strokes));
  }

  /** Holds a key (or a combination, in order) until up(). */
  async down(key: string): Promise<void> {
    for (const s of parseKeyCombo(key)) await this.strokeDown(s);
  }

  async up(key: string): Promise<void> {
    for (const s of parseKeyCombo(key).reverse()) await this.strokeUp(s);
  }

  /** Presses the keys in argument order (each may itself be a '+' combination), then releases them in reverse. */
  async combo(...keys: string[]): Promise<void> {
    const strokes = comboStrokes(keys.flatMap(splitCombo));
    await this.chord(strokes, 0);
    this.announce(labelOf(strokes));
  }

  /** For the recorder's keycast overlay: one label per typed character or pressed combination. */
  onKey(listener: (label: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async chord(strokes: KeyStroke[], holdMs: number): Promise<void> {
    for (const s of strokes) await this.strokeDown(s);
    if (holdMs > 0) await sleep(holdMs);
    for (const s of [...strokes].reverse()) await this.strokeUp(s);
  }

  private async strokeDown(s: KeyStroke): Promise<void> {
    if (s.shift) await this.send(Keysym.Shift, true);
    await this.send(s.keysym, true);
  }

  private async strokeUp(s: KeyStroke): Promise<void> {
    await this.send(s.keysym, false);
    if (s.shift) await this.send(Keysym.Shift, false);
  }

  private async send(keysym: number, down: boolean): Promise<void> {
    await this.client.sendKey(keysym, down);
    if (this.eventGap > 0) await sleep(this.eventGap);
  }

  private announce(label: string): void {
    for (const l of this.listeners) l(label);
  }
}

function labelOf(strokes: KeyStroke[]): string {
  return strokes.map((s) => s.label).join('+');
}
