/**
 * Playwright-style keyboard over VNC. Every event is awaited until the socket has taken
 * it, so order is strict; type() waits `delay` ms between characters (human-like by
 * default, which also reads well in the recorded video).
 */
import { sleep } from '../timeouts.js';
import type { VncClient } from './client.js';
import type { KeyEvent } from './protocol.js';
import { KeyFlow, type GuestKeyQueue, type KeyBatch } from './key-flow.js';
import { Keysym, comboStrokes, parseKeyCombo, ps2Bytes, splitCombo, strokeForChar, type KeyStroke } from './keys.js';

/**
 * Default pause between typed characters: about a typist's pace, so typing reads well in the
 * recorded video. Pass `delay: 0` where speed matters more.
 */
const DEFAULT_KEY_DELAY_MS = 100;

/**
 * Time between key events on average, so the guest's keyboard never overflows. QEMU hands each
 * event to the keyboard device as it comes while its own queue is empty (key-delay-ms at 1, see
 * domain-xml.ts): the virtio keyboard's queue holds 32 events, PS/2's 16 bytes; both drop the
 * rest silently when the guest falls behind (TCG on a busy host). Measured on tiny under TCG on a
 * loaded 2-core host, 1,000 random printable characters at delay 0 (~3 events each): 1 ms lost
 * keys on PS/2 once, 2 ms lost nothing on either device. Pacing can't help when the guest's vCPU
 * stalls outright: where the VM tells what its keyboard has taken (the virtio ring, PS/2's
 * interrupts), KeyFlow waits for room too.
 */
const KEY_EVENT_GAP_MS = 2;

/** Key events sent back to back at most when catching up: one shifted character (Shift, key, key up, Shift up). */
const MAX_BURST = 4;

export class Keyboard {
  private readonly delay: number;
  private readonly eventGap: number;
  private readonly listeners = new Set<(label: string) => void>();
  private readonly flow?: KeyFlow;
  /** When the next key event may go (performance.now() ms). */
  private nextSlot = 0;

  constructor(
    private readonly client: VncClient,
    /**
     * eventGap: ms between key events on average (default KEY_EVENT_GAP_MS); for measuring, mostly.
     * queue: the guest keyboard's queue, when it can be read: no event is sent while it is full.
     */
    options: { delay?: number; eventGap?: number; queue?: GuestKeyQueue } = {},
  ) {
    this.delay = options.delay ?? DEFAULT_KEY_DELAY_MS;
    this.eventGap = options.eventGap ?? KEY_EVENT_GAP_MS;
    if (options.queue) this.flow = new KeyFlow(options.queue);
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
    const strokes = parseKeyCombo(key);
    await this.flow?.admit(eventsOneWay(strokes));
    await this.send(pressesOf(strokes));
  }

  async up(key: string): Promise<void> {
    const strokes = parseKeyCombo(key);
    await this.flow?.admit(eventsOneWay(strokes));
    await this.send(releasesOf(strokes));
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
    // Presses and releases together.
    const oneWay = eventsOneWay(strokes);
    await this.flow?.admit({ events: 2 * oneWay.events, ps2Bytes: 2 * oneWay.ps2Bytes });
    if (holdMs > 0) {
      await this.send(pressesOf(strokes));
      await sleep(holdMs);
      await this.send(releasesOf(strokes));
      return;
    }
    // In one write: QEMU reads them together and the guest takes them in one go. Paced apart, a
    // stall between press and release (QEMU's or the guest's) let the guest's own autorepeat type
    // the key again: 15 times once, a virtio keyboard's release late by half a second under load.
    await this.send([...pressesOf(strokes), ...releasesOf(strokes)]);
  }

  private async send(events: KeyEvent[]): Promise<void> {
    await this.pace(events.length);
    // A release while VNC is down can only reach a QEMU that never saw the press: the one that did
    // has gone (a guest that powered off, or a revert, which restarts QEMU with no key held). Waiting
    // for VNC to come back would hold `type('poweroff\n')` for the reconnect timeout, then fail it.
    if (events.every((e) => !e.down) && !this.client.connected) return;
    await this.client.sendKeys(events);
  }

  /**
   * Waits for the slot of `events` key events, one every eventGap ms on average. A timer that
   * fires late (a busy host) is made up for, but in bursts of at most MAX_BURST events (a
   * keystroke with more goes whole), far below what the keyboard queues hold.
   */
  private async pace(events: number): Promise<void> {
    if (this.eventGap <= 0) return;
    const now = performance.now();
    const slot = Math.max(this.nextSlot, now - Math.max(0, MAX_BURST - events) * this.eventGap);
    this.nextSlot = slot + events * this.eventGap;
    if (slot > now) await sleep(slot - now);
  }

  private announce(label: string): void {
    for (const l of this.listeners) l(label);
  }
}

/** The events that press `strokes` in order, each Shift before its key. */
function pressesOf(strokes: KeyStroke[]): KeyEvent[] {
  return strokes.flatMap((s) => [...(s.shift ? [{ keysym: Keysym.Shift, down: true }] : []), { keysym: s.keysym, down: true }]);
}

/** The events that release `strokes` in reverse order, each key before its Shift. */
function releasesOf(strokes: KeyStroke[]): KeyEvent[] {
  return [...strokes].reverse().flatMap((s) => [{ keysym: s.keysym, down: false }, ...(s.shift ? [{ keysym: Keysym.Shift, down: false }] : [])]);
}

/** How many key events press `strokes` (as many release them), and their PS/2 bytes. */
function eventsOneWay(strokes: KeyStroke[]): KeyBatch {
  return {
    events: pressesOf(strokes).length,
    ps2Bytes: strokes.reduce((n, s) => n + ps2Bytes(s), 0),
  };
}

function labelOf(strokes: KeyStroke[]): string {
  return strokes.map((s) => s.label).join('+');
}
