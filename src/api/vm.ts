import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BaseImage } from '../images/index.js';
import type { Domain, SnapshotInfo, Resources, Accel } from '../libvirt/index.js';
import { Keyboard, Mouse, type Region, type Screen, type ScreenMatch, type VncClient, type VncEndpoint } from '../vnc/index.js';
import { recordSection, type RecordOptions, type RecordingResult } from '../record/index.js';
import type { FrameSource, InputEvent, InputSource } from '../frames.js';
import { TimeoutError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { defaultTimeout, resolveTimeout, sleep, timer, type TimeoutName } from '../timeouts.js';
import type { BootedVm, GuestChannels } from './boot.js';
import { VmError, type GuestNetwork } from '../libvirt/index.js';
import { removeRunFiles } from './run-files.js';
import { Watchdog, type WatchdogOptions } from '../watchdog/index.js';
import { GuestAgent, type ExecOptions, type ExecResult } from './guest-agent.js';
import { VmKeyboard, VmMouse } from './input.js';
import type { SerialConsole } from './serial.js';
import { directSteps, userCallSite, type StepRunner } from './steps.js';
import { removeVncSocket, vncAttachCommand } from './vnc-access.js';

/** What a Vm needs from the session that owns it. */
export interface VmOwner {
  readonly name: string;
  readonly directory: string;
  ensureDirectory(): Promise<string>;
  artifactsDir(): string;
  addSection(result: RecordingResult): void;
}

type MatchOptions = { region?: Region; exclude?: Region[]; threshold?: number; margin?: number; timeout?: number };

/**
 * A running VM, ready for input. Playwright-style surfaces (keyboard, mouse, screenshot,
 * waitFor*) plus the original design's flat names as aliases (type, keyPress, keyCombo, ...).
 */
export class Vm implements AsyncDisposable {
  readonly name: string;
  readonly image: BaseImage;
  readonly demo: VmOwner;
  readonly domain: Domain;
  readonly serial: SerialConsole;
  readonly keyboard: VmKeyboard;
  readonly mouse: VmMouse;
  readonly resources: Resources;
  readonly accel: Accel;
  /** Milliseconds per boot step (overlay, define, start, running, vnc, ready). */
  readonly timings: Record<string, number>;
  /** The VNC client; also the recorder's frame source. */
  readonly vnc: VncClient;
  readonly screen: Screen;
  /** Host ends of the guest's channels to a watchdog: HTTP (closed network) and ttyS1. */
  readonly channels: GuestChannels;
  private readonly network?: GuestNetwork;
  private readonly watchdogs = new Set<Watchdog>();
  private readonly agent: GuestAgent;
  private readonly rawKeyboard: Keyboard;
  private readonly rawMouse: Mouse;
  private readonly overlay: string;
  private readonly log: Logger;
  private stepRunner: StepRunner = directSteps;
  private readonly firstEndpoint?: VncEndpoint;
  private closed?: Promise<void>;

  constructor(booted: BootedVm & { name: string; image: BaseImage; demo: VmOwner; accel: Accel; log: Logger; onClose: () => void }) {
    this.name = booted.name;
    this.image = booted.image;
    this.demo = booted.demo;
    this.domain = booted.domain;
    this.serial = booted.serial;
    this.vnc = booted.client;
    this.screen = booted.screen;
    this.resources = booted.resources;
    this.accel = booted.accel;
    this.timings = booted.timings;
    this.overlay = booted.overlay;
    this.channels = booted.channels;
    this.network = booted.network;
    this.log = booted.log;
    this.rawKeyboard = new Keyboard(booted.client);
    this.rawMouse = new Mouse(booted.client);
    const steps = (): StepRunner => (title, body) => this.stepRunner(title, body, userCallSite());
    this.keyboard = new VmKeyboard(this.rawKeyboard, steps);
    this.mouse = new VmMouse(this.rawMouse, steps);
    this.agent = new GuestAgent(booted.domain, booted.image.guestAgent, booted.image.user?.name);
    this.onClose = booted.onClose;
    this.firstEndpoint = booted.client.endpoint;
  }
  private readonly onClose: () => void;

  /**
   * Where this VM's VNC server listens: `{ socket }`, a unix socket only this user can open
   * (the default), or `{ host: '127.0.0.1', port }` when DEMOTOOL_VNC_TCP=1 asked for TCP
   * (libvirt's autoport: the port can change after a revert).
   */
  get vncEndpoint(): VncEndpoint {
    const endpoint = this.vnc.endpoint ?? this.firstEndpoint;
    if (!endpoint) throw new Error(`VM ${this.name} has no VNC endpoint yet`);
    return { ...endpoint };
  }

  /** The VNC TCP port on 127.0.0.1 with DEMOTOOL_VNC_TCP=1; undefined on the default unix socket (see vncEndpoint). */
  get vncPort(): number | undefined {
    const endpoint = this.vncEndpoint;
    return 'port' in endpoint ? endpoint.port : undefined;
  }

  /** A shell command that lets a TCP-only viewer (VLC, vncviewer) watch this VM: a socat bridge on 127.0.0.1:port. */
  vncAttachCommand(port = 5999): string {
    return vncAttachCommand(this.vncEndpoint, port);
  }

  /** Show every action as a step (the Playwright fixtures pass test.step). */
  setStepRunner(runner: StepRunner | undefined): void {
    this.stepRunner = runner ?? directSteps;
  }

  private step<T>(title: string, body: () => Promise<T>): Promise<T> {
    return this.stepRunner(title, () => body().catch((e) => this.explainTimeout(e)), userCallSite());
  }

  /**
   * A wait that timed out may have waited on a VM that stopped: QEMU pauses a guest whose disk
   * write failed (a full disk), and nothing on screen or serial moves after that. Say so.
   */
  private async explainTimeout(error: unknown): Promise<never> {
    // Every timeout has the code ETIMEOUT (screen matches have their own class, with the best match).
    if (!(error instanceof TimeoutError) && (error as { code?: string })?.code !== 'ETIMEOUT') throw error;
    const { state, reason } = await this.domain.stateWithReason(3_000).catch(() => ({ state: 'unknown', reason: '' }));
    if (state === 'paused' && /ioerror|i\/o error/i.test(reason))
      throw new VmError('EVMPAUSEDIO', `VM ${this.name} is paused: QEMU stopped it after a disk I/O error (is the disk full?)`, {
        cause: error, hint: `free space where the overlay lives (${dirname(this.overlay)}); the wait that timed out: ${(error as Error).message.split('\n')[0]}`,
      });
    if (state === 'shut off' || state === 'crashed' || state === 'paused')
      throw new VmError('EVMNOTRUNNING', `VM ${this.name} is ${state}${reason ? ` (${reason})` : ''}, so the wait could not succeed`, { cause: error, hint: (error as Error).message.split('\n')[0] });
    throw error;
  }

  // ---- screen -------------------------------------------------------------

  /** A PNG of the screen from the always-current mirror (no new connection). */
  screenshot(options?: { path?: string; clip?: Region }): Promise<Buffer> {
    return this.step('screenshot', () => this.screen.screenshot(options));
  }

  /** Wait until the reference PNG shows on screen (openQA needle: searched within a margin). */
  async waitForScreen(reference: string | Buffer, options?: MatchOptions): Promise<ScreenMatch> {
    const o = timed(options, 'waitForScreen', 'screen');
    return this.step(`wait for screen ${label(reference)}`, () => this.screen.waitForScreen(reference, o));
  }

  /** Find the reference on screen, then click its centre. */
  async clickImage(reference: string | Buffer, options?: MatchOptions & { button?: 'left' | 'right' | 'middle' }): Promise<ScreenMatch> {
    const o = timed(options, 'clickImage', 'screen');
    return this.step(`click image ${label(reference)}`, async () => {
      const m = await this.screen.waitForScreen(reference, o);
      await this.rawMouse.click(Math.round(m.x + m.width / 2), Math.round(m.y + m.height / 2), { button: options?.button });
      return m;
    });
  }

  async waitForStableScreen(options?: { duration?: number; timeout?: number; region?: Region }): Promise<void> {
    const o = timed(options, 'waitForStableScreen', 'stable');
    return this.step('wait for stable screen', () => this.screen.waitForStableScreen(o));
  }

  async waitForScreenChange(options?: { timeout?: number; region?: Region }): Promise<void> {
    const o = timed(options, 'waitForScreenChange', 'stable');
    return this.step('wait for screen change', () => this.screen.waitForScreenChange(o));
  }

  /** OCR (tesseract) until the text shows. */
  async waitForText(pattern: RegExp | string, options?: { region?: Region; timeout?: number }) {
    const o = timed(options, 'waitForText', 'text');
    return this.step(`wait for text ${pattern}`, () => this.screen.waitForText(pattern, o));
  }

  // ---- serial and guest ---------------------------------------------------

  async waitForSerial(pattern: RegExp | string, options?: { timeout?: number; from?: number }): Promise<RegExpMatchArray> {
    const o = timed(options, 'waitForSerial', 'serial');
    return this.step(`wait for serial ${pattern}`, () => this.serial.waitFor(pattern, o));
  }

  /** Run a shell command in the guest through qemu-guest-agent (as the desktop user by default). */
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    const o = timed(options, 'exec', 'exec');
    return this.step(`exec ${JSON.stringify(command)}`, () => this.agent.exec(command, o));
  }

  // ---- snapshots ----------------------------------------------------------

  snapshot(name: string): Promise<void> {
    return this.step(`snapshot ${name}`, () => this.domain.snapshot(name, `demotool snapshot of ${this.name}`));
  }

  snapshots(): Promise<SnapshotInfo[]> {
    return this.domain.snapshots();
  }

  deleteSnapshot(name: string): Promise<void> {
    return this.domain.deleteSnapshot(name);
  }

  /** Revert to a snapshot. QEMU restarts; this returns once VNC is connected again. */
  revert(name: string, options: { timeout?: number } = {}): Promise<void> {
    return this.step(`revert to ${name}`, async () => {
      let dropped = false;
      const onDrop = () => (dropped = true);
      this.vnc.on('disconnect', onDrop);
      const reconnected = waitForEvent(this.vnc, 'reconnect', resolveTimeout('revert timeout', options.timeout, defaultTimeout('vncConnect') * 2));
      reconnected.catch(() => undefined);
      try {
        await this.domain.revert(name);
        await sleep(300); // the old socket's close can lag the revert's return
        if (dropped || !this.vnc.connected) await reconnected;
      } finally {
        this.vnc.off('disconnect', onDrop);
      }
      this.log.info('reverted', { vm: this.name, snapshot: name, vnc: this.vncEndpoint });
    });
  }

  // ---- watchdog -----------------------------------------------------------

  /**
   * Start watching this VM: heartbeats from the guest (HTTP at watchdog.guestUrl, or lines on
   * its ttyS1), its idle timer, the domain's state and kernel panics. Any fault reverts the VM
   * to `options.snapshot` ('ready', taken now if missing). Closed with the VM, or by close().
   */
  watchdog(options: WatchdogOptions = {}): Promise<Watchdog> {
    return this.step('start the watchdog', async () => {
      if (this.watchdogs.size > 0)
        throw new UsageError(`VM ${this.name} has a watchdog already`, 'close it first (one watchdog per VM: both would answer the same guest channels)');
      const watchdog = await Watchdog.start(
        { name: this.name, domain: this.domain, channels: this.channels, screenshot: () => this.screen.screenshot() },
        options,
        this.log.child('watchdog'),
      );
      this.watchdogs.add(watchdog);
      watchdog.once('close', () => this.watchdogs.delete(watchdog));
      return watchdog;
    });
  }

  // ---- recording ----------------------------------------------------------

  /** Record body() as a section: demo-videos/{demo}/{section}.mp4. The file stays playable if body throws. */
  async record(section: string, body: () => Promise<void>, options?: RecordOptions): Promise<RecordingResult> {
    const directory = await this.demo.ensureDirectory();
    const vnc = this.vnc;
    const source: FrameSource & InputSource = {
      frame: () => vnc.frame(),
      get version() { return vnc.version; },
      get pointer() { return vnc.pointer; },
      get cursor() { return vnc.cursor; },
      get connected() { return vnc.connected; },
      onInput: (listener) => this.onInput(listener),
    };
    const result = await this.step(`record ${section}`, () => recordSection(source, directory, section, body, { ...options, log: this.log.child('record') }));
    this.demo.addSection(result);
    return result;
  }

  private onInput(listener: (e: InputEvent) => void): () => void {
    const offKey = this.rawKeyboard.onKey((label) => listener({ type: 'key', label, at: performance.now() }));
    const offClick = this.rawMouse.onClick((e) => listener({ type: 'click', ...e, at: performance.now() }));
    return () => {
      offKey();
      offClick();
    };
  }

  // ---- the original design's names -----------------------------------------

  /** The spec's GNOME unlock: Super+L, pause, space, pause, Backspace twice, password, Enter. */
  unlock(password = this.image.user?.password ?? 'demokudasaidomo'): Promise<void> {
    return this.step('unlock the screen', async () => {
      await this.rawKeyboard.press('Super+L');
      await sleep(1000);
      await this.rawKeyboard.press('Space');
      await sleep(1000);
      await this.rawKeyboard.press('Backspace');
      await this.rawKeyboard.press('Backspace');
      await this.rawKeyboard.type(password);
      await this.rawKeyboard.press('Enter');
    });
  }
  /** Types with human-like timing (0.1 s a key). */
  type(text: string, options?: { delay?: number }): Promise<void> {
    return this.keyboard.type(text, options);
  }
  keyPress(key: string): Promise<void> {
    return this.keyboard.press(key);
  }
  keyDown(key: string): Promise<void> {
    return this.keyboard.down(key);
  }
  keyUp(key: string): Promise<void> {
    return this.keyboard.up(key);
  }
  keyCombo(...keys: string[]): Promise<void> {
    return this.keyboard.combo(...keys);
  }
  pause(ms: number): Promise<void> {
    return this.step(`pause ${ms} ms`, () => sleep(ms));
  }
  move(x: number, y: number): Promise<void> {
    return this.mouse.move(x, y);
  }
  /** Drag from the current position to (x, y), moving `step` pixels at a time. */
  mouseDrag(x: number, y: number, step = 10): Promise<void> {
    const from = this.mouse.position;
    const steps = Math.max(1, Math.ceil(Math.hypot(x - from.x, y - from.y) / Math.max(1, step)));
    return this.mouse.drag(from, { x, y }, { steps });
  }
  /** Press and release a button where the pointer is. */
  mousePress(button: 'left' | 'right' | 'middle' = 'left'): Promise<void> {
    const { x, y } = this.mouse.position;
    return this.mouse.click(x, y, { button });
  }
  click(x?: number, y?: number, options?: { button?: 'left' | 'right' | 'middle' }): Promise<void> {
    const p = this.mouse.position;
    return this.mouse.click(x ?? p.x, y ?? p.y, options);
  }
  captureScreen(path?: string): Promise<Buffer> {
    return this.screenshot({ path });
  }
  /** The spec's expectScreen(image, maxrms): the screen matches within an error of `maxrms` (0..1). */
  expectScreen(image: string | Buffer, maxrms = 0.05, options?: MatchOptions): Promise<ScreenMatch> {
    return this.waitForScreen(image, { ...options, threshold: 1 - maxrms });
  }

  // ---- lifetime -------------------------------------------------------------

  /** Destroy and undefine the VM and delete its overlay. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const watchdog of [...this.watchdogs]) await watchdog.close().catch(() => undefined);
      await this.vnc.close().catch(() => undefined);
      try {
        await this.domain.removeOrThrow();
      } catch (e) {
        // QEMU may still run on the overlay: keep it, say so, and let a later close() try again.
        this.closed = undefined;
        throw new VmError('EVMREMOVE', `VM ${this.name} could not be removed: ${(e as Error).message.split('\n')[0]}`, {
          cause: e, hint: `its overlay ${this.overlay} is kept; is libvirtd running? then \`virsh destroy ${this.name}\` or \`demotool cleanup\``,
        });
      }
      await this.network?.close();
      await removeRunFiles(dirname(this.overlay), this.name);
      await removeVncSocket(this.vnc.endpoint ?? this.firstEndpoint);
      this.onClose();
      this.log.info('vm removed', { name: this.name });
    })();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The options with their timeout checked and defaulted by the one rule (0 or Infinity: no limit). */
function timed<T extends { timeout?: number }>(options: T | undefined, verb: string, fallback: TimeoutName): T & { timeout: number } {
  return { ...(options ?? ({} as T)), timeout: resolveTimeout(`${verb} timeout`, options?.timeout, defaultTimeout(fallback)) };
}

function label(reference: string | Buffer): string {
  return typeof reference === 'string' ? reference.split('/').pop()! : 'image';
}

function waitForEvent(emitter: NodeJS.EventEmitter, event: string, timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = timer(() => {
      emitter.off(event, done);
      reject(new TimeoutError(`VNC reconnect after a snapshot revert`, timeout, { hint: 'is the VM still running? see `virsh list`' }));
    }, timeout);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    emitter.once(event, done);
  });
}

