/**
 * Flow control for key events: none is sent while the guest's keyboard has no room for it. The
 * keyboard's queue is small (the virtio keyboard's ring holds 32 key events, PS/2's 16 bytes) and
 * drops what doesn't fit, so a guest whose vCPU stalls for a moment (TCG beside another busy VM)
 * lost keys however evenly they were paced. What the keyboard has taken, and the virtio ring's
 * room, are read from the VM (libvirt's GuestKeyboardQueue). Behind the keyboard, a guest's programs
 * may fall behind its kernel (a desktop's X server and xterm under TCG); its busy vCPUs tell that,
 * and typing waits for them too.
 */
import { sleep } from '../timeouts.js';

/**
 * What the guest's keyboard has done, in key events, or in bytes where `unit` says so (PS/2's
 * queue). `source`: which keyboard, in which QEMU (its `taken` is counted anew when this
 * changes); `taken`: events it has taken so far (a running count); `room`: how many more it can
 * take now, where it can tell (the virtio ring; not PS/2); `size`: its room when the guest has
 * caught up; `busy`: the busiest vCPU's share of the last moment (0–1), where it can tell.
 */
export interface GuestKeyState {
  source: string;
  unit?: 'events' | 'ps2-bytes';
  taken: number;
  room?: number;
  size: number;
  busy?: number;
}

/**
 * Key events sent together, and the bytes they take in a PS/2 keyboard's queue: a key with an
 * E0 prefix (arrows, Home, Delete, right Control) takes two.
 */
export interface KeyBatch {
  events: number;
  ps2Bytes: number;
}

type Unit = NonNullable<GuestKeyState['unit']>;

/** The guest keyboard's queue: its state, or undefined when unknown (QEMU can't be asked just now). */
export interface GuestKeyQueue {
  read(): Promise<GuestKeyState | undefined>;
}

/** Between two looks at a full queue. */
const POLL_MS = 3;

/** Room kept free: one event, for a key event the guest's driver might add itself. */
const MARGIN = 1;

/**
 * Key events on their way at most (sent, or in the ring, and not yet taken by the guest's kernel),
 * though the ring holds 32; bytes, for PS/2 (its queue holds 16). Behind the ring the guest has
 * buffers of the same size: evdev's per-reader queue holds 64 input events, 32 key events with their syncs. A ring let go at once
 * after a stall filled it before the X server read it, and evdev dropped what it held (14
 * characters lost on the desktop; 12 on CI when only the events not yet in the ring were capped).
 */
const MAX_IN_FLIGHT = 8;

/**
 * After a stall this long (no room), the guest gets as long again (at most MAX_SETTLE_MS) to catch
 * up before typing goes on: its kernel empties the ring at once, but its programs (the X server)
 * run later, the later the longer it stood still.
 */
const STALL_MS = 50;
const MAX_SETTLE_MS = 500;

/**
 * Sent events the queue hasn't taken though it is empty and has been still this long since the
 * last was sent: they went elsewhere (QEMU drops input while a VM is paused; a revert restarts the queue).
 */
const IDLE_MS = 200;

/** How often `sent` is noted down, for the rule above. */
const MARK_MS = 10;

/**
 * A guest whose busiest vCPU ran, or waited to run, this share of the last moment is behind on
 * its work: typing waits until it has caught up. Its kernel takes keys from the ring at once, so
 * the ring alone let keys through faster than a loaded desktop's X server read them, and evdev's
 * 64 events overflowed (SYN_DROPPED in Xorg's log; 15–40 characters lost at a time). An idle guest
 * reads under 0.1 here; one typed into at 165 keys a second, 0.92–1.
 */
const BUSY = 0.85;

/**
 * A busy guest still gets one keystroke this often (openQA types 30 keys a second): it may be busy
 * with something else, a video say. So does a guest whose queue can't be read (QEMU restarting, a
 * PS/2 count not yet seen to move) or that is hung: nothing tells how much it holds.
 */
const FLOOR_MS = 33;

/**
 * Key events a busy guest may take at the floor's pace, counted from the last look that found it
 * with time to spare: its programs may not read any of them until it has caught up, and evdev holds
 * 32 for them, some maybe still unread from before. Without it, a guest whose X server stood still
 * for 1.5 s took 90 events at the floor's pace.
 */
const BUSY_BUDGET = 20;

/**
 * A guest busy past its budget still gets a keystroke this often: one busy with something else
 * (a video) reads its keys all the same, and an X server stalled that long has stopped, not slowed.
 */
const SATURATED_FLOOR_MS = 250;

/** A guest that takes no key for this long is hung, not slow: typing goes on without waiting for it, until it takes one again. */
const GIVE_UP_MS = 5_000;

export class KeyFlow {
  /** Events sent, and their PS/2 bytes: running counts. */
  private readonly sent: KeyBatch = { events: 0, ps2Bytes: 0 };
  /** What the queue counts in, as of the last look; `credit`, `offset` and the budgets are in it. */
  private unit: Unit = 'events';
  /** `taken - sent` when none of ours was on its way; unknown until the queue is first read. */
  private offset?: number;
  /** The queue `offset` counts in. */
  private source?: string;
  /** What the queue had taken when the guest was found hung: typing waits for it no more until that moves. */
  private hungAt?: { source: string; taken: number };
  /** Events (or bytes) that may go before the next look. */
  private credit = 0;
  /** When the last keystroke was admitted, and whether the guest's load was known at the last look. */
  private admittedAt = -Infinity;
  private loadKnown = false;
  /** What the queue had taken at the last look that found the guest with time to spare. */
  private caughtUp?: { source: string; taken: number };
  /**
   * `sent` as it was `at`, over the last IDLE_MS and the newest before, oldest first: one mark
   * per MARK_MS (from `since`), moved on with each event.
   */
  private readonly marks: { since: number; at: number; sent: KeyBatch }[] = [];

  constructor(private readonly queue: GuestKeyQueue) {}

  /**
   * Resolves when `batch` (a number: that many key events of one PS/2 byte each) fits in the
   * guest's keyboard (at most MAX_IN_FLIGHT are waited for); counts it as sent. A keystroke is
   * admitted whole: its release held back by a stall would let an X server's autorepeat type the key again.
   */
  async admit(batch: KeyBatch | number = 1): Promise<void> {
    const b = typeof batch === 'number' ? { events: batch, ps2Bytes: batch } : batch;
    const since = performance.now();
    while (this.credit < this.needed(b)) {
      this.credit = await this.look(performance.now() - since >= GIVE_UP_MS, b);
      if (this.credit < this.needed(b)) await sleep(POLL_MS);
    }
    // A guest whose load is known was waited for until it caught up; others get time to.
    const stalled = performance.now() - since;
    if (stalled >= STALL_MS && !this.loadKnown) await sleep(Math.min(stalled, MAX_SETTLE_MS));
    this.credit -= this.inUnit(b);
    this.sent.events += b.events;
    this.sent.ps2Bytes += b.ps2Bytes;
    this.admittedAt = performance.now();
    this.mark(this.admittedAt);
  }

  /** `b` counted as the keyboard last looked at counts. */
  private inUnit(b: KeyBatch): number {
    return this.unit === 'ps2-bytes' ? b.ps2Bytes : b.events;
  }

  /** What must fit before `b` goes: all of it, up to MAX_IN_FLIGHT. */
  private needed(b: KeyBatch): number {
    return Math.min(this.inUnit(b), MAX_IN_FLIGHT);
  }

  /** How many events (or bytes) may go now, `b` being the keystroke waiting. */
  private async look(givenUp: boolean, b: KeyBatch): Promise<number> {
    const state = await this.queue.read();
    this.loadKnown = state?.busy !== undefined;
    if (state) this.unit = state.unit ?? 'events';
    const needed = this.needed(b);
    if (!state || this.hung(state, givenUp)) {
      this.offset = undefined;
      return this.sinceAdmitted() >= FLOOR_MS ? needed : 0;
    }
    const credit = this.room(state);
    if (state.busy === undefined) return credit;
    if (state.busy < BUSY) {
      this.caughtUp = { source: state.source, taken: state.taken };
      return credit;
    }
    // Behind on its work: one keystroke at a time, at the floor's pace while within its budget.
    const floor = this.withinBusyBudget(state, needed) ? FLOOR_MS : SATURATED_FLOOR_MS;
    return this.sinceAdmitted() >= floor ? Math.min(credit, needed) : 0;
  }

  /** Whether the guest, busy since it last had time to spare, may take `needed` more events with those on their way. */
  private withinBusyBudget(state: GuestKeyState, needed: number): boolean {
    if (this.caughtUp?.source !== state.source) this.caughtUp = { source: state.source, taken: state.taken };
    return state.taken - this.caughtUp.taken + this.notTakenYet(state) + needed <= BUSY_BUDGET;
  }

  private sinceAdmitted(): number {
    return performance.now() - this.admittedAt;
  }

  /** How many events fit in the keyboard's queue, with those on their way counted. */
  private room(state: GuestKeyState): number {
    // First look, another keyboard or QEMU, or more taken than we sent (someone else typed): count from here.
    if (this.offset === undefined || state.source !== this.source || this.inUnit(this.sent) < state.taken - this.offset) {
      this.offset = state.taken - this.inUnit(this.sent);
      this.source = state.source;
    }
    const now = performance.now();
    this.mark(now);
    // An empty queue has taken all we sent more than IDLE_MS ago: any of those not counted went elsewhere.
    if (state.room !== undefined && state.room >= state.size) this.offset = Math.min(this.offset, state.taken - this.sentAt(now - IDLE_MS));
    const room = state.room ?? state.size;
    const inRing = state.size - room;
    return Math.min(room - MARGIN, MAX_IN_FLIGHT - inRing) - this.notTakenYet(state);
  }

  /** Events sent that the queue hasn't taken yet (after `room` has set the offset). */
  private notTakenYet(state: GuestKeyState): number {
    return this.inUnit(this.sent) - (state.taken - this.offset!);
  }

  /** Whether the guest is taken for hung: given up on now, or before and it has taken nothing since. */
  private hung(state: GuestKeyState, givenUp: boolean): boolean {
    if (givenUp) this.hungAt = { source: state.source, taken: state.taken };
    if (this.hungAt?.source === state.source && this.hungAt.taken === state.taken) return true;
    this.hungAt = undefined;
    return false;
  }

  private mark(now: number): void {
    const last = this.marks.at(-1);
    if (last && now - last.since < MARK_MS) Object.assign(last, { at: now, sent: { ...this.sent } });
    else this.marks.push({ since: now, at: now, sent: { ...this.sent } });
    while (this.marks.length > 1 && this.marks[1]!.at <= now - IDLE_MS) this.marks.shift();
  }

  /** How many events had been sent at `time`, as far as the marks tell: possibly fewer, never more. */
  private sentAt(time: number): number {
    const oldest = this.marks[0];
    return oldest && oldest.at <= time ? this.inUnit(oldest.sent) : 0;
  }
}
