/**
 * What must not outlive the process (VMs and their files, recordings still being written)
 * registers here. One handler for SIGINT, SIGTERM and SIGHUP runs every registered async
 * cleanup once, then lets the signal do what it would have done without us: when nobody else
 * handles it, the process ends by that signal (exit status 128+n), and the user's script never
 * goes on. Synchronous exit hooks cover the ends that run no async code (an uncaught exception,
 * process.exit()).
 *
 * The signal handler is installed only while some cleanup is registered, so a process with
 * nothing to clean up keeps the default signal behaviour.
 */
import { constants } from 'node:os';
import { createLogger } from './log.js';

type Cleanup = () => Promise<void>;
type ExitHook = () => void;

const log = createLogger('cleanup');
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const pending = new Set<Cleanup>();
const exitHooks = new Set<ExitHook>();
let installed = false;
let running: Promise<void> | undefined;
let signalCount = 0;

/**
 * Runs `fn` on SIGINT/SIGTERM/SIGHUP (and in runCleanups()), once. Cleanups run in reverse
 * order of registration: what started last (a recording) goes before what it depends on (the VM).
 * Returns the function that unregisters it.
 */
export function onCleanup(fn: Cleanup): () => void {
  pending.add(fn);
  install();
  return () => {
    pending.delete(fn);
    if (pending.size === 0 && !running) uninstall();
  };
}

/**
 * A synchronous last resort for when the process ends without the async cleanups: an
 * uncaught exception, an unhandled rejection or process.exit(). Runs in the 'exit' event.
 */
export function onExitSync(fn: ExitHook): () => void {
  exitHooks.add(fn);
  if (exitHooks.size === 1) process.on('exit', runExitHooks);
  return () => {
    exitHooks.delete(fn);
    if (exitHooks.size === 0) process.off('exit', runExitHooks);
  };
}

/** Runs every pending cleanup once, in reverse order of registration. Never throws. */
export async function runCleanups(): Promise<void> {
  const all = [...pending].reverse();
  pending.clear();
  for (const fn of all) {
    try {
      await fn();
    } catch (e) {
      log.warn('cleanup step failed', { error: (e as Error).message });
    }
  }
}

/** A signal's cleanups have started: work under way should stop, not look for another way to finish. */
export function cleanupsStarted(): boolean {
  return running !== undefined;
}

/**
 * How many signals have started the cleanups so far. Work that began before the latest one
 * was cut short by it (a VM action then still running is not a missing `await`).
 */
export function signalsReceived(): number {
  return signalCount;
}

/** Is the signal handler installed? (Tests check that nothing is left behind.) */
export function signalHandlersInstalled(): boolean {
  return process.listeners('SIGINT').includes(onSignal);
}

function runExitHooks(): void {
  for (const fn of [...exitHooks].reverse()) {
    try {
      fn();
    } catch {
      // the process is going: nothing else can be done
    }
  }
  exitHooks.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  // A second signal while the cleanups run changes nothing: they are already under way.
  if (running) return;
  signalCount++;
  log.warn('signal received: stopping recordings and removing VMs', { signal, pending: pending.size });
  running = runCleanups().finally(() => {
    running = undefined;
    uninstall();
    // Nobody else handles the signal (a Playwright worker does): do what it would have done without us.
    if (!othersHandle(signal)) endBySignal(signal);
    // The process goes on: cleanups registered meanwhile get the next signal.
    else if (pending.size > 0) install();
  });
}

/**
 * Re-raises the signal. Its delivery needs one more turn of the event loop, and signal listeners
 * don't keep the loop alive: a script waiting on a promise that never settles (a test body cut
 * short) would end first with Node's own status 13. The timer keeps the loop turning until then.
 */
function endBySignal(signal: NodeJS.Signals): void {
  setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 1_000);
  process.kill(process.pid, signal);
}

/**
 * Does anyone but signal-exit listen for `signal`? signal-exit (execa's, so ours too) listens
 * to every signal but only acts when it is the last listener: counted as a handler, it would
 * keep the process alive until a second Ctrl-C. Its listeners are counted where it keeps them.
 */
function othersHandle(signal: NodeJS.Signals): boolean {
  return process.listenerCount(signal) > signalExitListeners();
}

function signalExitListeners(): number {
  // signal-exit v4 keeps its count on a global symbol, v3 on the process.
  const v4 = (globalThis as Record<symbol, { count?: unknown } | undefined>)[Symbol.for('signal-exit emitter')]?.count;
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__?.count;
  return (typeof v4 === 'number' ? v4 : 0) + (typeof v3 === 'number' ? v3 : 0);
}
