/**
 * KeyFlow against a model of the guest's keyboard: QEMU puts each key event sent into its queue
 * if it has room and drops it if not; the guest empties the queue unless its vCPU is stalled. The
 * virtio keyboard's ring (32) tells its room; PS/2's queue (16) tells only what it has taken.
 * The e2e proof on a real guest is in vnc-fast-typing.spec.ts (its vCPU frozen while typing).
 * A model with programs behind the kernel (X reading evdev's 32 key events) shows the rule for a busy guest.
 * Last, the Keyboard's rule for a key release while VNC is down.
 */
import { test, expect } from '@playwright/test';
import { KeyFlow, type GuestKeyQueue, type KeyBatch } from '../../src/vnc/key-flow.js';
import { Keyboard, type VncClient } from '../../src/vnc/index.js';

class ModelKeyboard implements GuestKeyQueue {
  source = 'virtio in QEMU #1';
  inRing = 0;
  taken = 0;
  dropped = 0;
  /** The most events the ring held at once: what the guest's kernel hands on at once after a stall. */
  mostInRing = 0;
  stalled = false;
  reads = 0;
  /**
   * Programs behind the kernel: evdev's queue (32 key events, 64 with their syncs), read `programsPerTick` events per tick, and
   * dropped whole when full (SYN_DROPPED); while it holds events the guest reports itself busy,
   * if `reportsBusy`. Without `programsPerTick` the kernel's taking is the end of it.
   */
  programsPerTick?: number;
  reportsBusy = true;
  inEvdev = 0;
  droppedInEvdev = 0;
  /** Busy all the time, with something else (a video playing). */
  alwaysBusy = false;
  /** Events on their way through QEMU's own queue, delivered at the next tick. */
  private onTheirWay = 0;
  private readonly ticker = setInterval(() => this.tick(), 1);

  /**
   * The virtio keyboard counts an event taken when QEMU puts it into the ring, and tells the
   * ring's room; PS/2 counts it taken when the guest reads it, and nothing tells its fill.
   */
  constructor(
    readonly size = 32,
    private readonly kind: 'virtio' | 'ps2' = 'virtio',
  ) {}

  /** One key event, `bytes` long in PS/2's queue (two for a key with an E0 prefix). */
  send(bytes = 1): void {
    this.onTheirWay += this.kind === 'ps2' ? bytes : 1;
  }

  async read() {
    this.reads++;
    const knowsLoad = this.alwaysBusy || (this.programsPerTick !== undefined && this.reportsBusy);
    const busy = knowsLoad ? Number(this.alwaysBusy || this.inEvdev > 0) : undefined;
    const unit = this.kind === 'ps2' ? ('ps2-bytes' as const) : ('events' as const);
    return { source: this.source, unit, taken: this.taken, room: this.kind === 'virtio' ? this.size - this.inRing : undefined, size: this.size, busy };
  }

  stop(): void {
    clearInterval(this.ticker);
  }

  private tick(): void {
    for (; this.onTheirWay > 0; this.onTheirWay--) {
      if (this.inRing < this.size) {
        this.inRing++;
        if (this.kind === 'virtio') this.taken++;
        this.mostInRing = Math.max(this.mostInRing, this.inRing);
      } else this.dropped++;
    }
    if (this.stalled) return;
    if (this.kind === 'ps2') this.taken += this.inRing;
    if (this.programsPerTick !== undefined) this.toEvdev(this.inRing);
    this.inRing = 0;
  }

  private toEvdev(events: number): void {
    this.inEvdev = Math.max(0, this.inEvdev - this.programsPerTick!);
    for (let i = 0; i < events; i++) {
      if (this.inEvdev < 32) this.inEvdev++;
      else {
        this.droppedInEvdev += this.inEvdev;
        this.inEvdev = 0;
      }
    }
  }
}

async function typeEvents(flow: KeyFlow, keyboard: ModelKeyboard, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await flow.admit();
    keyboard.send();
  }
}

test('a guest stalled for 400 ms mid-typing loses no key event, and typing goes on after it', async () => {
  const keyboard = new ModelKeyboard();
  const flow = new KeyFlow(keyboard);
  setTimeout(() => (keyboard.stalled = true), 20);
  setTimeout(() => (keyboard.stalled = false), 420);
  const t = performance.now();
  await typeEvents(flow, keyboard, 400);
  await new Promise((r) => setTimeout(r, 20));
  keyboard.stop();
  expect(keyboard.dropped).toBe(0);
  expect(keyboard.taken).toBe(400);
  expect(performance.now() - t).toBeGreaterThan(400);
  // The guest's kernel passes the whole ring on at once when it runs again, into evdev's queue
  // (32 key events) that the X server may not read for a while yet: the ring holds 8 at most.
  expect(keyboard.mostInRing).toBe(8);
});

test('PS/2, which tells only what it has taken: a 400 ms stall mid-typing loses nothing, with 8 events at most in its queue', async () => {
  const keyboard = new ModelKeyboard(16, 'ps2');
  const flow = new KeyFlow(keyboard);
  setTimeout(() => (keyboard.stalled = true), 20);
  setTimeout(() => (keyboard.stalled = false), 420);
  await typeEvents(flow, keyboard, 400);
  await new Promise((r) => setTimeout(r, 20));
  keyboard.stop();
  expect(keyboard.dropped).toBe(0);
  expect(keyboard.taken).toBe(400);
  expect(keyboard.mostInRing).toBe(8);
});

/** Arrow-key strokes (press and release, E0-prefixed: 4 bytes in PS/2's queue), admitted as `admitAs` counts them. */
async function typeArrows(flow: KeyFlow, keyboard: ModelKeyboard, strokes: number, admitAs: (b: KeyBatch) => KeyBatch | number): Promise<void> {
  for (let i = 0; i < strokes; i++) {
    await flow.admit(admitAs({ events: 2, ps2Bytes: 4 }));
    keyboard.send(2);
    keyboard.send(2);
  }
}

test('PS/2 counts bytes: arrow keys (two bytes an event) through a 400 ms stall keep 8 bytes at most in its queue', async () => {
  const stalledTyping = async (admitAs: (b: KeyBatch) => KeyBatch | number) => {
    const keyboard = new ModelKeyboard(16, 'ps2');
    const flow = new KeyFlow(keyboard);
    setTimeout(() => (keyboard.stalled = true), 20);
    setTimeout(() => (keyboard.stalled = false), 420);
    await typeArrows(flow, keyboard, 100, admitAs);
    await new Promise((r) => setTimeout(r, 20));
    keyboard.stop();
    return keyboard;
  };
  const counted = await stalledTyping((b) => b);
  expect(counted.dropped).toBe(0);
  expect(counted.taken).toBe(400);
  expect(counted.mostInRing).toBe(8);
  // Counted as events (as before), an E0 key's second byte looks like someone else's typing: the queue fills.
  const asEvents = await stalledTyping((b) => b.events);
  expect(asEvents.mostInRing).toBeGreaterThan(12);
});

test('events counted by one keyboard are not waited for once another takes the keys (a driver unloaded, QEMU restarted)', async () => {
  const keyboard = new ModelKeyboard(16, 'ps2');
  const flow = new KeyFlow(keyboard);
  // 8 events that the first keyboard never takes: the flow has no room left there.
  for (let i = 0; i < 8; i++) await flow.admit();
  keyboard.source = 'PS/2 in QEMU #2';
  const t = performance.now();
  await typeEvents(flow, keyboard, 100);
  keyboard.stop();
  expect(performance.now() - t).toBeLessThan(1_000);
  expect(keyboard.dropped).toBe(0);
});

test('without flow control the same stall drops events (the model can fail)', async () => {
  const keyboard = new ModelKeyboard();
  keyboard.stalled = true;
  for (let i = 0; i < 100; i++) keyboard.send();
  await new Promise((r) => setTimeout(r, 20));
  keyboard.stop();
  expect(keyboard.dropped).toBe(100 - keyboard.size);
});

test('a guest that keeps up is asked about once per ring of events, not per event', async () => {
  const keyboard = new ModelKeyboard();
  const flow = new KeyFlow(keyboard);
  for (let i = 0; i < 300; i++) {
    await flow.admit();
    keyboard.send();
    if (i % 8 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  keyboard.stop();
  expect(keyboard.dropped).toBe(0);
  expect(keyboard.reads).toBeLessThan(300 / 4);
});

test('events that never arrive (QEMU drops input while the VM is paused) stop being counted once the queue is idle', async () => {
  const keyboard = new ModelKeyboard();
  const flow = new KeyFlow(keyboard);
  // 30 events admitted but lost on their way: once the queue has been idle a while, the flow counts them no longer.
  for (let i = 0; i < 30; i++) await flow.admit();
  await new Promise((r) => setTimeout(r, 250));
  const reads = keyboard.reads;
  const t = performance.now();
  await typeEvents(flow, keyboard, 310);
  keyboard.stop();
  expect(keyboard.dropped).toBe(0);
  // A look or two per 8 events, at full speed: the 30 lost ones, still counted, would leave no room (8 at most on their way).
  expect(keyboard.reads - reads).toBeLessThan(120);
  expect(performance.now() - t).toBeLessThan(2_000);
});

test('an unreadable queue (QEMU restarting, a PS/2 count not yet seen to move) lets a keystroke go every 33 ms, asking again before each', async () => {
  let reads = 0;
  const flow = new KeyFlow({ read: async () => (reads++, undefined) });
  const t = performance.now();
  for (let i = 0; i < 10; i++) await flow.admit(4);
  const took = performance.now() - t;
  expect(took).toBeGreaterThan(9 * 33 - 5);
  expect(took).toBeLessThan(1_000);
  expect(reads).toBeGreaterThanOrEqual(10);
});

test('a guest that takes nothing for 5 s is hung: typing goes on without it, and waits for it again once it takes keys', async () => {
  const keyboard = new ModelKeyboard(16, 'ps2');
  keyboard.stalled = true;
  keyboard.stop();
  const flow = new KeyFlow(keyboard);
  let t = performance.now();
  for (let i = 0; i < 10; i++) await flow.admit();
  const waited = performance.now() - t;
  expect(waited).toBeGreaterThan(4_900);
  expect(waited).toBeLessThan(7_000);
  // Still hung: the next keystrokes go at the floor's pace, without another 5 s wait.
  t = performance.now();
  for (let i = 0; i < 10; i++) await flow.admit();
  expect(performance.now() - t).toBeLessThan(1_000);
  // It takes a key again: flow control is back, 8 events on their way at most.
  keyboard.taken++;
  expect(await admittedBeforeWaiting(flow, 100)).toBe(8);
});

test("a guest whose programs fall behind its kernel is waited for while it is busy: nothing overflows evdev's queue", async () => {
  const keyboard = new ModelKeyboard();
  keyboard.programsPerTick = 0.5;
  const flow = new KeyFlow(keyboard);
  await typeEvents(flow, keyboard, 300);
  await new Promise((r) => setTimeout(r, 200));
  keyboard.stop();
  expect(keyboard.dropped).toBe(0);
  expect(keyboard.droppedInEvdev).toBe(0);
});

test('the same guest, its load unknown: the ring alone lets evdev overflow (the model can fail)', async () => {
  const keyboard = new ModelKeyboard();
  keyboard.programsPerTick = 0.5;
  keyboard.reportsBusy = false;
  const flow = new KeyFlow(keyboard);
  await typeEvents(flow, keyboard, 300);
  keyboard.stop();
  expect(keyboard.dropped).toBe(0);
  expect(keyboard.droppedInEvdev).toBeGreaterThan(0);
});

/** Types `n` keystrokes of two events each; the times each was admitted, from the start. */
async function typeKeystrokes(flow: KeyFlow, keyboard: ModelKeyboard, n: number): Promise<number[]> {
  const t = performance.now();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await flow.admit(2);
    times.push(performance.now() - t);
    keyboard.send();
    keyboard.send();
  }
  return times;
}

test('a guest busy all the time with something else gets a keystroke every 33 ms up to 20 events, then one every 250 ms', async () => {
  const keyboard = new ModelKeyboard();
  keyboard.alwaysBusy = true;
  const flow = new KeyFlow(keyboard);
  const times = await typeKeystrokes(flow, keyboard, 13);
  keyboard.stop();
  expect(times[9]!).toBeGreaterThan(9 * 33 - 5);
  expect(times[9]!).toBeLessThan(1_000);
  expect(times[12]! - times[9]!).toBeGreaterThan(3 * 250 - 5);
  expect(times[12]! - times[9]!).toBeLessThan(3 * 250 + 300);
});

test("a guest whose programs stand still for 1.5 s while it is busy: the keys it takes meanwhile fit in evdev's queue", async () => {
  const keyboard = new ModelKeyboard();
  keyboard.programsPerTick = 0;
  setTimeout(() => (keyboard.programsPerTick = 1), 1_500);
  const flow = new KeyFlow(keyboard);
  const times = await typeKeystrokes(flow, keyboard, 30);
  await new Promise((r) => setTimeout(r, 100));
  keyboard.stop();
  expect(keyboard.droppedInEvdev).toBe(0);
  // Against the floor alone (one keystroke every 33 ms): 45 keystrokes, 90 events, in that time.
  expect(times.filter((t) => t < 1_500).length).toBeLessThanOrEqual(10 + 1_500 / 250);
});

/** How many events `flow` admits before one waits 300 ms; `max` if none does. */
async function admittedBeforeWaiting(flow: KeyFlow, max: number): Promise<number> {
  for (let n = 0; n < max; n++) {
    const admitted = flow.admit().then(() => true);
    if (!(await Promise.race([admitted, new Promise<false>((r) => setTimeout(() => r(false), 300))]))) return n;
  }
  return max;
}

test('with VNC down, a key release is dropped at once (the QEMU that took the press is gone); a keystroke still goes to the client, which waits for VNC to come back', async () => {
  const sent: string[] = [];
  let connected = true;
  const client = {
    get connected() {
      return connected;
    },
    sendKeys: async (events: { keysym: number; down: boolean }[]) => void sent.push(...events.map((e) => `${e.down ? 'down' : 'up'} ${e.keysym.toString(16)}`)),
  };
  const keyboard = new Keyboard(client as unknown as VncClient, { eventGap: 0 });
  await keyboard.down('Enter');
  // The press powered the guest off: QEMU exits and VNC goes down before the release.
  connected = false;
  await keyboard.up('Enter');
  expect(sent).toEqual(['down ff0d']);
  await keyboard.press('a');
  expect(sent).toEqual(['down ff0d', 'down 61', 'up 61']);
});

test("a keystroke's presses and releases go in one write (the guest takes them together); a held one in two", async () => {
  const writes: string[][] = [];
  const client = {
    connected: true,
    sendKeys: async (events: { keysym: number; down: boolean }[]) => void writes.push(events.map((e) => `${e.down ? 'down' : 'up'} ${e.keysym.toString(16)}`)),
  };
  const keyboard = new Keyboard(client as unknown as VncClient, { eventGap: 1 });
  await keyboard.type('A!', { delay: 0 });
  await keyboard.press('Control+c');
  await keyboard.press('x', { delay: 20 });
  expect(writes).toEqual([
    ['down ffe1', 'down 41', 'up 41', 'up ffe1'],
    ['down ffe1', 'down 21', 'up 21', 'up ffe1'],
    ['down ffe3', 'down 63', 'up 63', 'up ffe3'],
    ['down 78'],
    ['up 78'],
  ]);
});
