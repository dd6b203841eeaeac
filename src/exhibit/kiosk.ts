/**
 * The kiosk viewer: the guest full-screen on this host's display, kept running by the daemon.
 * The exhibition controller's Openbox autostart started the viewer once, so a viewer that
 * crashed, was closed, or started before libvirt was up left a dead screen; this one comes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';

/** The viewer command: config.viewer as given, else virt-viewer full-screen on the domain through libvirt. */
export function kioskCommand(kiosk: { viewer?: string[] }, domain: string, libvirtUri: string): string[] {
  if (kiosk.viewer) return [...kiosk.viewer];
  // --kiosk-quit never: stay up when the guest's display goes away (a revert restarts QEMU);
  // --reconnect follows the guest back; --wait waits for a domain that isn't running yet.
  return ['virt-viewer', '--connect', libvirtUri, '--kiosk', '--kiosk-quit', 'never', '--reconnect', '--wait', domain];
}

/** Is there a display to show the viewer on (DISPLAY or WAYLAND_DISPLAY set)? */
export function displayPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

export interface KioskOptions {
  command: string[];
  log: Logger;
  /** first restart delay, ms; doubles per quick exit up to maxDelayMs; reset after the viewer ran 60 s */
  restartDelayMs?: number;
  maxDelayMs?: number;
  /** How long a viewer must run for its exit to count as new trouble, not a crash loop (ms, default 60 s). */
  steadyAfterMs?: number;
  env?: NodeJS.ProcessEnv;
}

const KILL_AFTER_MS = 3_000;
/** The tail of the viewer's stderr kept for the exit's log line: why it exited, bounded. */
const STDERR_TAIL = 1_000;

/** Keeps the viewer running: restarts it whenever it exits (with backoff), until stop(). */
export class KioskViewer {
  private child?: ChildProcess;
  private restartTimer?: NodeJS.Timeout;
  private delayMs: number;
  private restartCount = 0;
  private stopping?: Promise<void>;
  private missingWarned = false;

  private constructor(private readonly options: KioskOptions) {
    this.delayMs = this.firstDelay;
  }

  static start(options: KioskOptions): KioskViewer {
    if (options.command.length === 0) throw new TypeError('KioskViewer: the viewer command is empty');
    const viewer = new KioskViewer(options);
    viewer.launch();
    return viewer;
  }

  /** A viewer process is alive now. */
  get running(): boolean {
    return this.child?.pid !== undefined;
  }

  /** The live viewer's process id, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the viewer was restarted. */
  get restarts(): number {
    return this.restartCount;
  }

  /** SIGTERM the viewer, SIGKILL after 3 s; no restart afterwards. Resolves when the process is gone. */
  stop(): Promise<void> {
    this.stopping ??= this.end();
    return this.stopping;
  }

  private get firstDelay(): number {
    return this.options.restartDelayMs ?? 1_000;
  }

  private async end(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child?.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child.pid, 'SIGTERM');
    const killer = setTimeout(() => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL'), KILL_AFTER_MS);
    await gone;
    clearTimeout(killer);
  }

  private launch(): void {
    this.restartTimer = undefined;
    const [file, ...args] = this.options.command as [string, ...string[]];
    const startedAt = performance.now();
    let child: ChildProcess;
    try {
      // Its own process group, so a wrapper (`sh -c ...`) takes what it started along when it ends.
      child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: this.options.env ?? process.env, detached: true });
    } catch (error) {
      // Some failures to start are thrown, not emitted (ETXTBSY: the file is being written, an install
      // under way). Thrown from this timer, one would end the daemon: retried like any other.
      return this.exited(undefined, { error: error as NodeJS.ErrnoException, ranMs: 0 });
    }
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL)));
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      child.stderr?.destroy(); // a descendant still holding it must not keep the pipe open for days
      if (this.child === child) this.child = undefined;
      this.exited(child.pid, { ...outcome, ranMs: performance.now() - startedAt, stderr: stderr.trim() || undefined });
    };
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // 'error' also comes from a failed kill() of a live viewer; only a failed start ends this one.
      if (child.pid === undefined) settle({ error });
      else this.options.log.debug('kiosk viewer signal failed', { pid: child.pid, error });
    });
    if (child.pid === undefined) return;
    const fields = { pid: child.pid, command: this.options.command.join(' '), restarts: this.restartCount };
    // The first start is news; a restart was announced with the exit before it.
    if (this.restartCount === 0) this.options.log.info('kiosk viewer started', fields);
    else this.options.log.debug('kiosk viewer started', fields);
  }

  private exited(pid: number | undefined, outcome: Exit): void {
    if (pid !== undefined) signalGroup(pid, 'SIGTERM'); // what it left behind, so a restart doesn't make two viewers
    if (this.stopping) {
      this.options.log.info('kiosk viewer stopped', { pid, code: outcome.code ?? undefined, signal: outcome.signal ?? undefined });
      return;
    }
    const steady = outcome.ranMs >= (this.options.steadyAfterMs ?? 60_000);
    const delayMs = this.nextDelay(steady);
    if (outcome.error) this.reportStartFailure(outcome.error, delayMs);
    else this.reportExit(pid, outcome, delayMs, steady);
    this.restartTimer = setTimeout(() => {
      this.restartCount++;
      this.launch();
    }, delayMs);
  }

  /** The wait before the next start: the first delay after a steady run, else double the last one, up to the cap. */
  private nextDelay(steady: boolean): number {
    if (steady) this.delayMs = this.firstDelay;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(delayMs * 2, this.options.maxDelayMs ?? 30_000);
    return delayMs;
  }

  private reportStartFailure(error: NodeJS.ErrnoException, delayMs: number): void {
    const { log, command } = this.options;
    const missing = error.code === 'ENOENT';
    const fields = { command: command[0], error: error.message, retryInMs: delayMs };
    // A missing viewer is said once until it starts; retrying stays quiet (the operator may install it later).
    if (missing && this.missingWarned) return log.debug('kiosk viewer still missing', fields);
    if (missing) this.missingWarned = true;
    const hint = missing ? 'install virt-viewer (apt-get install virt-viewer) or set kiosk.viewer' : undefined;
    log.warn(missing ? 'kiosk viewer not found' : 'kiosk viewer could not start', { ...fields, hint });
  }

  private reportExit(pid: number | undefined, exit: Exit, delayMs: number, steady: boolean): void {
    this.missingWarned = false;
    const { code, signal } = exit;
    const fields = { pid, code: code ?? undefined, signal: signal ?? undefined, ranMs: Math.round(exit.ranMs), restartInMs: delayMs, stderr: exit.stderr };
    // In kiosk mode the viewer should never exit; it is only unremarkable after a clean, long run.
    if (code === 0 && steady) this.options.log.info('kiosk viewer exited; restarting', fields);
    else this.options.log.warn('kiosk viewer exited; restarting', fields);
  }
}

interface Outcome {
  code?: number | null;
  signal?: NodeJS.Signals | null;
  error?: NodeJS.ErrnoException;
}

/** How a viewer ended, with how long it ran and the end of its stderr. */
type Exit = Outcome & { ranMs: number; stderr?: string };

/** Signals the viewer's process group; quiet when it is gone already. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}
