import type { BaseImage } from '../images/index.js';
import type { SnapshotInfo, Resources, Accel, GuestNetwork, GuestKeyboardQueue } from '../libvirt/index.js';
import { Keyboard, Mouse, type MatchOptions, type ScreenMatch, type VncEndpoint } from '../vnc/index.js';
import { recordSection, type RecordOptions, type RecordingResult } from '../record/index.js';
import type { Region, MouseButton } from '../geometry.js';
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { defaultTimeout, resolveTimeout, sleep, type TimeoutName } from '../timeouts.js';
import type { Watchdog, WatchdogOptions } from '../watchdog/index.js';
import { WatchdogSlot } from './watchdog-slot.js';
import { removeVm } from './vm-removal.js';
import type { BootedVm } from './boot.js';
import type { GuestChannels } from './guest-channels.js';
import type { StartKind } from './warm-start.js';
import { GuestAgent, type ExecOptions, type ExecResult } from './guest-agent.js';
import { VmKeyboard, VmMouse } from './input.js';
import type { SerialConsole, SerialLog } from './serial.js';
import { directSteps, pointAtCaller, userCallSite, type StepRunner } from './steps.js';
import { PendingActions } from './pending-actions.js';
import { attachBackends, type VmBackends } from './vm-backends.js';
import { explainTimeout, failWhenStopped, type WaitedVm } from './stopped-vm.js';
import { recordingSource } from './recording-source.js';
import { revertAndReconnect, revertInPlace } from './vm-revert.js';
import { vncAttachCommand } from './vnc-access.js';

/** What a Vm needs from the session that owns it. */
export interface VmOwner {
  readonly name: string;
  readonly directory: string;
  ensureDirectory(): Promise<string>;
  artifactsDir(): string;
  addSection(result: RecordingResult): void;
}

/** How long a wait may take, in ms: 0 or Infinity for no limit; each verb names its default. */
export interface WaitOptions {
  timeout?: number;
}

/** What the Vm is built from: the booted parts and the session's context. */
export type VmParts = BootedVm & { name: string; image: BaseImage; demo: VmOwner; accel: Accel; log: Logger; onClose: () => void };

/**
 * A running VM, ready for input: `keyboard` and `mouse`, screen verbs (`screenshot`,
 * `waitForScreen`, `waitForText`, ...), serial output (`serial`, `waitForSerial`), commands in
 * the guest (`exec`), snapshots, a watchdog, recorded sections and `close()`.
 *
 * Every action is shown as a step in Playwright reports. A wait that times out throws a
 * {@link TimeoutError} (a {@link ScreenMatchTimeoutError} for screen matches), or a
 * {@link VmError} (EVMPAUSEDIO, EVMNOTRUNNING) when the VM stopped: at once when it stopped for
 * good (a disk error, a crash, power off) and no watchdog brings it back, else at the timeout.
 * Default timeouts are named in {@link Timeouts} and scaled by DEMOTOOL_TIMEOUT_SCALE.
 * The libvirt domain and the VNC client behind it are reachable through {@link backendsOf}.
 */
export class Vm implements AsyncDisposable {
  /** The libvirt domain's name: `demo-{demo}-{id}`. */
  readonly name: string;
  /** The base image the VM's overlay sits on. */
  readonly image: BaseImage;
  /** The demo session that owns this VM. */
  readonly demo: VmOwner;
  /** The guest's serial log (read-only); wait on it with {@link Vm.waitForSerial}. */
  readonly serial: SerialLog;
  /** The VNC keyboard: type, press, down, up, combo. */
  readonly keyboard: VmKeyboard;
  /** The absolute (USB tablet) pointer: move, click, dblclick, down, up, drag, wheel. */
  readonly mouse: VmMouse;
  /** CPUs and memory the VM got. */
  readonly resources: Resources;
  /** 'kvm' or 'tcg'. */
  readonly accel: Accel;
  /** Milliseconds per boot step. Cold: overlay, define, start, running, vnc, ready, and save after the first cold boot of a shape. Warm: prepare, restore, vnc, ready (the clock). */
  readonly timings: Record<string, number>;
  /** 'cold': booted from the image; 'warm': restored from a saved boot of the same image and shape. */
  readonly started: StartKind;
  /** Host ends of the guest's channels to a watchdog: HTTP (closed network) and ttyS1. */
  readonly channels: GuestChannels;
  /** The network services' log of every guest request (JSON lines: served, missing, refused), when the VM has `services`. */
  readonly requestLog?: string;
  private readonly backends: VmBackends;
  private readonly serialConsole: SerialConsole;
  private readonly network?: GuestNetwork;
  private readonly keyboardQueue?: GuestKeyboardQueue;
  private readonly watchdogSlot = new WatchdogSlot();
  private readonly agent: GuestAgent;
  private readonly rawKeyboard: Keyboard;
  private readonly rawMouse: Mouse;
  private readonly overlay: string;
  private readonly log: Logger;
  private readonly onClose: () => void;
  private stepRunner: StepRunner = directSteps;
  private readonly actions = new PendingActions();
  private readonly firstEndpoint?: VncEndpoint;
  private closed?: Promise<void>;
  /** Reverts under way: QEMU may restart (shut off for a moment), which waits must not take for a stopped VM. */
  private reverting = 0;

  /** @internal Built by `DemoSession.vm()`. */
  constructor(parts: VmParts) {
    this.name = parts.name;
    this.image = parts.image;
    this.demo = parts.demo;
    this.serial = parts.serial;
    this.serialConsole = parts.serial;
    this.resources = parts.resources;
    this.accel = parts.accel;
    this.timings = parts.timings;
    this.started = parts.started;
    this.overlay = parts.overlay;
    this.channels = parts.channels;
    this.requestLog = parts.requestLog;
    this.network = parts.network;
    this.keyboardQueue = parts.keyboardQueue;
    this.log = parts.log;
    this.onClose = parts.onClose;
    this.backends = { domain: parts.domain, vnc: parts.client, screen: parts.screen };
    attachBackends(this, this.backends);
    this.rawKeyboard = new Keyboard(parts.client, { queue: parts.keyboardQueue });
    this.rawMouse = new Mouse(parts.client);
    const steps = (): StepRunner => (title, body) => this.tracked(title, body);
    this.keyboard = new VmKeyboard(this.rawKeyboard, steps);
    this.mouse = new VmMouse(this.rawMouse, steps);
    this.agent = new GuestAgent(parts.domain, parts.image.guestAgent, parts.image.user?.name);
    this.firstEndpoint = parts.client.endpoint;
  }

  // ---- VNC access -------------------------------------------------------------

  /**
   * Where this VM's VNC server listens: `{ socket }`, a unix socket only this user can open
   * (the default), or `{ host: '127.0.0.1', port }` when DEMOTOOL_VNC_TCP=1 asked for TCP
   * (libvirt's autoport: the port can change after a revert).
   * @throws {@link UsageError} before the VM has an endpoint.
   */
  get vncEndpoint(): VncEndpoint {
    const endpoint = this.backends.vnc.endpoint ?? this.firstEndpoint;
    if (!endpoint) throw new UsageError(`VM ${this.name} has no VNC endpoint yet`);
    return { ...endpoint };
  }

  /** A shell command that lets a TCP-only viewer (VLC, vncviewer) watch this VM: a socat bridge on 127.0.0.1:`port` (default 5999). */
  vncAttachCommand(port = 5999): string {
    return vncAttachCommand(this.vncEndpoint, port);
  }

  /** Show every action through `runner` (the Playwright fixtures pass test.step); undefined: run them plainly. @internal */
  setStepRunner(runner: StepRunner | undefined): void {
    this.stepRunner = runner ?? directSteps;
  }

  /**
   * A step that waits for the guest: it fails as soon as the VM is found stopped (paused on a
   * disk error, crashed, shut off) instead of at its timeout, unless a watchdog that recovers
   * it, or a revert (QEMU restarts), is looking after the VM.
   */
  private waitStep<T>(title: string, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.step(title, () => this.whileRunning(title, body));
  }

  /**
   * Runs `wait` (the screen matchers' polling, or a verb's wait), failing it at once when the VM
   * stops for good, as the waiting verbs do; `wait` is aborted then. @internal
   */
  whileRunning<T>(title: string, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return failWhenStopped(this.waited(), title, () => this.watchdogSlot.recovers || this.reverting > 0, wait);
  }

  /** What a wait that failed needs to know of this VM to say whether it stopped. */
  private waited(): WaitedVm {
    return { name: this.name, domain: this.backends.domain, overlay: this.overlay };
  }

  /** A waiting or screen action: a timeout on a VM that stopped says so. */
  private step<T>(title: string, body: () => Promise<T>): Promise<T> {
    return this.tracked(title, () => body().catch((e) => explainTimeout(e, this.waited())));
  }

  /**
   * Every vm action: a step under `title` at the user's line, tracked until it settles (to find
   * a missing `await`), its errors pointing at that line.
   */
  private tracked<T>(title: string, body: () => Promise<T>): Promise<T> {
    const site = userCallSite();
    const run = this.stepRunner(title, () => body().catch((e) => Promise.reject(pointAtCaller(e, site))), site);
    return this.actions.track(title, site, run);
  }

  /**
   * Throws MissingAwaitError when actions started on this VM are still running `when` (the
   * fixtures call it as each test ends), naming the line of each; quiet when `cutShort`. @internal
   */
  checkActionsSettled(when: string, options?: { cutShort?: boolean }): void {
    this.actions.check(when, options);
  }

  // ---- screen -------------------------------------------------------------

  /**
   * A PNG of the screen (or of `clip`) from the always-current VNC mirror; also written to
   * `path` when given. Takes no time to wait: the mirror is read as it is.
   * @returns the PNG.
   */
  async screenshot(options?: { path?: string; clip?: Region }): Promise<Buffer> {
    return this.step('screenshot', () => this.backends.screen.screenshot(options));
  }

  /**
   * Waits until `reference` (a PNG path or buffer) shows on screen: an openQA needle,
   * searched within `margin` of `region`, matched at `threshold` similarity (default 0.95).
   * Default timeout: `Timeouts.screen`.
   * @returns where it matched, with its similarity.
   * @throws {@link ScreenMatchTimeoutError} on timeout (with the best match; writes
   * `<name>-actual.png` and `<name>-diff.png` to the artifacts directory).
   */
  async waitForScreen(reference: string | Buffer, options?: MatchOptions & WaitOptions): Promise<ScreenMatch> {
    const o = timed(options, 'waitForScreen', 'screen');
    return this.waitStep(`wait for screen ${label(reference)}`, (signal) => this.backends.screen.waitForScreen(reference, { ...o, signal }));
  }

  /**
   * Looks for `reference` on the screen as it is now, without waiting (for checks that
   * something is absent). Not shown as a step.
   * @returns the match, or null when it does not show at `threshold`.
   */
  async findImage(reference: string | Buffer, options?: MatchOptions): Promise<ScreenMatch | null> {
    return this.backends.screen.findImage(reference, options);
  }

  /**
   * Waits until `reference` shows (as {@link Vm.waitForScreen}), then clicks its centre with
   * `button` (default left). Default timeout: `Timeouts.screen`.
   * @returns where it matched.
   * @throws {@link ScreenMatchTimeoutError} when it never shows.
   */
  async clickImage(reference: string | Buffer, options?: MatchOptions & WaitOptions & { button?: MouseButton }): Promise<ScreenMatch> {
    const o = timed(options, 'clickImage', 'screen');
    return this.waitStep(`click image ${label(reference)}`, async (signal) => {
      const m = await this.backends.screen.waitForScreen(reference, { ...o, signal });
      await this.rawMouse.click(Math.round(m.x + m.width / 2), Math.round(m.y + m.height / 2), { button: options?.button });
      return m;
    });
  }

  /**
   * Waits until the screen (or `region`) stays unchanged for `duration` ms (default 1000);
   * a blinking cursor doesn't count as a change. Default timeout: `Timeouts.stable`.
   * @throws {@link TimeoutError} when it keeps changing.
   */
  async waitForStableScreen(options?: { duration?: number; region?: Region } & WaitOptions): Promise<void> {
    const o = timed(options, 'waitForStableScreen', 'stable');
    return this.step('wait for stable screen', () => this.backends.screen.waitForStableScreen(o));
  }

  /**
   * Runs `action`, then waits until the screen (or `region`) differs from how it looked
   * before the action: the picture to compare with is taken first, so a change the action
   * causes at once is never missed. A blinking cursor doesn't count. Default timeout
   * `Timeouts.stable`, counted from the call (the action's time included).
   * @returns what `action` returned.
   * @throws {@link TimeoutError} when nothing changed; whatever `action` throws.
   */
  async waitForScreenChange<T>(action: () => Promise<T> | T, options?: { region?: Region } & WaitOptions): Promise<T> {
    if (typeof action !== 'function')
      return Promise.reject(
        new UsageError('waitForScreenChange takes the action that changes the screen', 'vm.waitForScreenChange(() => vm.keyboard.press("Enter"))'),
      );
    const o = timed(options, 'waitForScreenChange', 'stable');
    return this.waitStep('wait for screen change', async (signal) => {
      const changed = this.backends.screen.waitForScreenChange({ ...o, signal });
      changed.catch(() => undefined);
      const result = await action();
      await changed;
      return result;
    });
  }

  /**
   * Reads the screen (or `region`) once with OCR (tesseract), without waiting. Not shown as a step.
   * @returns the text read.
   */
  async readText(options?: { region?: Region }): Promise<string> {
    return this.backends.screen.ocr(options);
  }

  /**
   * Reads the screen (or `region`) with OCR until `pattern` matches (a string matches as a
   * plain substring). Default timeout: `Timeouts.text`.
   * @returns the text read and the match.
   * @throws {@link TimeoutError} with the last text read.
   */
  async waitForText(pattern: RegExp | string, options?: { region?: Region } & WaitOptions): Promise<{ text: string; match: RegExpMatchArray }> {
    const o = timed(options, 'waitForText', 'text');
    return this.waitStep(`wait for text ${pattern}`, (signal) => this.backends.screen.waitForText(pattern, { ...o, signal }));
  }

  // ---- serial and guest ---------------------------------------------------

  /**
   * Waits until the serial log, from offset `from` (default 0; take one with
   * `vm.serial.mark()` before acting), matches `pattern` (a string matches as a plain
   * substring). Default timeout: `Timeouts.serial`.
   * @returns the match.
   * @throws {@link TimeoutError} with the last serial lines.
   */
  async waitForSerial(pattern: RegExp | string, options?: { from?: number } & WaitOptions): Promise<RegExpMatchArray> {
    const o = timed(options, 'waitForSerial', 'serial');
    return this.waitStep(`wait for serial ${pattern}`, (signal) => this.serialConsole.waitFor(pattern, { ...o, signal }));
  }

  /**
   * Runs a shell command in the guest through qemu-guest-agent (as the image's desktop user
   * by default). Default timeout: `Timeouts.exec`.
   * @returns its exit code, stdout and stderr (a non-zero exit is returned, not thrown).
   * @throws {@link GuestAgentError} when the image has no agent or the agent fails; {@link TimeoutError}.
   */
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    const o = timed(options, 'exec', 'exec');
    return this.waitStep(`exec ${JSON.stringify(command)}`, (signal) => this.agent.exec(command, o, signal));
  }

  /**
   * Waits `ms` milliseconds, shown as a step (a pause the viewer of a recording should see).
   */
  async pause(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      return Promise.reject(new UsageError(`pause takes a number of milliseconds ≥ 0, not ${JSON.stringify(ms)}`));
    return this.step(`pause ${ms} ms`, () => sleep(ms));
  }

  // ---- snapshots ----------------------------------------------------------

  /**
   * Takes a snapshot of the running VM (disk and memory) named `name`.
   * @throws {@link VirshError} when libvirt refuses (a name in use, no space); {@link UsageError} for an ISO's VM without a blank disk.
   */
  async snapshot(name: string): Promise<void> {
    // libvirt keeps a snapshot in a writable qcow2 disk; an ISO's VM without a blank disk has none.
    if (this.image.cdrom && !existsSync(this.overlay))
      throw new UsageError(`VM ${this.name} boots an ISO and has no disk to keep a snapshot in`, "give it a blank disk: demo.vm(iso, { blankDisk: '1G' })");
    return this.step(`snapshot ${name}`, () => this.backends.domain.snapshot(name, `demotool snapshot of ${this.name}`));
  }

  /** The VM's snapshots, oldest first. Not shown as a step. */
  async snapshots(): Promise<SnapshotInfo[]> {
    return this.backends.domain.snapshots();
  }

  /** Deletes the snapshot `name`. Not shown as a step. @throws {@link VirshError} when it does not exist. */
  async deleteSnapshot(name: string): Promise<void> {
    return this.backends.domain.deleteSnapshot(name);
  }

  /**
   * Reverts to the snapshot `name`. `method: 'restart'` (default): libvirt's revert, QEMU restarts
   * and this returns once VNC is connected again. `method: 'in-place'`: QEMU's own loadvm, well
   * under a second, VNC stays connected; where it can't (the VM not running, a snapshot without
   * memory), the restarting revert. Default timeout: twice `Timeouts.vncConnect` for the reconnect.
   * @throws {@link VirshError} when the snapshot does not exist; {@link TimeoutError} when VNC does not come back.
   */
  async revert(name: string, options: WaitOptions & { method?: 'restart' | 'in-place' } = {}): Promise<void> {
    const timeout = resolveTimeout('revert timeout', options.timeout, defaultTimeout('vncConnect') * 2);
    const method = options.method ?? 'restart';
    if (method !== 'restart' && method !== 'in-place') throw new UsageError(`revert method must be 'restart' or 'in-place', not ${JSON.stringify(method)}`);
    return this.step(`revert to ${name}${method === 'in-place' ? ' (in place)' : ''}`, async () => {
      this.reverting++;
      try {
        await this.revertTo(name, method, timeout);
      } finally {
        this.reverting--;
      }
    });
  }

  private async revertTo(name: string, method: 'restart' | 'in-place', timeout: number): Promise<void> {
    const inPlace = method === 'in-place' && (await revertInPlace(this.backends.domain, name, timeout));
    // QEMU keeps the old picture in the mirror until the guest draws: ask for every pixel again.
    if (inPlace) await this.backends.vnc.refresh(timeout);
    else await revertAndReconnect(this.backends.domain, this.backends.vnc, name, timeout);
    this.log.info('reverted', { vm: this.name, snapshot: name, inPlace, vnc: this.vncEndpoint });
  }

  // ---- watchdog -----------------------------------------------------------

  /**
   * Starts watching this VM: heartbeats from the guest (HTTP at watchdog.guestUrl, or lines on
   * its ttyS1), its idle timer, the domain's state and kernel panics. Any fault reverts the VM
   * to `options.snapshot` ('ready', taken now if missing). Closed with the VM, or by close().
   * @returns the running watchdog.
   * @throws {@link UsageError} when this VM has a watchdog already, or an option is wrong.
   */
  async watchdog(options: WatchdogOptions = {}): Promise<Watchdog> {
    return this.step('start the watchdog', async () => {
      const { domain, screen, vnc } = this.backends;
      const watched = {
        name: this.name,
        domain,
        channels: this.channels,
        screenshot: () => screen.screenshot(),
        refreshScreen: () => vnc.refresh(defaultTimeout('vncConnect')),
      };
      return this.watchdogSlot.start(watched, vnc, options, this.log.child('watchdog'));
    });
  }

  // ---- recording ----------------------------------------------------------

  /**
   * Records `body` as a section of the demo: demo-videos/{demo}/{section}.mp4, joined into
   * {demo}.mp4 when the demo closes. The file stays playable if `body` throws.
   * @returns the file and what was checked about it.
   * @throws {@link UsageError} for a bad option; a {@link RecordingError} subclass when the
   * recording fails; whatever `body` throws (after the file is finished).
   */
  async record(section: string, body: () => Promise<void>, options?: RecordOptions): Promise<RecordingResult> {
    const directory = await this.demo.ensureDirectory();
    const source = recordingSource(this.backends.vnc, this.rawKeyboard, this.rawMouse);
    const result = await this.step(`record ${section}`, () => recordSection(source, directory, section, body, { ...options, log: this.log.child('record') }));
    this.demo.addSection(result);
    return result;
  }

  // ---- lifetime -------------------------------------------------------------

  /**
   * Stops the watchdog, destroys and undefines the VM and deletes its overlay and sockets. Idempotent.
   * @throws {@link VmError} EVMREMOVE when libvirt can't remove it (the overlay is kept; call again).
   */
  close(): Promise<void> {
    let missingAwait: unknown;
    try {
      if (!this.closed) this.actions.check('when the VM was closed');
    } catch (e) {
      missingAwait = e;
    }
    this.closed ??= (async () => {
      await this.watchdogSlot.close();
      const { domain, vnc } = this.backends;
      try {
        await removeVm({
          name: this.name,
          domain,
          vnc,
          keyboardQueue: this.keyboardQueue,
          network: this.network,
          overlay: this.overlay,
          firstEndpoint: this.firstEndpoint,
        });
      } catch (e) {
        // QEMU may still run on the overlay: a later close() tries again.
        this.closed = undefined;
        throw e;
      }
      this.onClose();
      this.log.info('vm removed', { name: this.name });
    })();
    // The VM is removed either way; the first close() then reports the actions it cut short.
    return missingAwait ? this.closed.then(() => Promise.reject(missingAwait)) : this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The options with their timeout checked and defaulted by the one rule (0 or Infinity: no limit). */
function timed<T extends WaitOptions>(options: T | undefined, verb: string, fallback: TimeoutName): T & { timeout: number } {
  return { ...(options ?? ({} as T)), timeout: resolveTimeout(`${verb} timeout`, options?.timeout, defaultTimeout(fallback)) };
}

function label(reference: string | Buffer): string {
  return typeof reference === 'string' ? (reference.split('/').pop() ?? reference) : 'image';
}
