/**
 * What must not outlive the process (VMs and their files, recordings still being written)
 * registers here. One handler for SIGINT, SIGTERM and SIGHUP runs every registered async
 * cleanup once, then lets the signal do what it would have done without us; synchronous exit
 * hooks cover the ends that run no async code (an uncaught exception, process.exit()).
 *
 * The signal handler is installed only while some cleanup is registered, so a process with
 * nothing to clean up keeps the default signal behaviour.
 */
import { createLogger } from './log.js';

type Cleanup = () => Promise<void>;
type ExitHook = () => void;

const log = createLogger('cleanup');
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const pending = new Set<Cleanup>();
const exitHooks = new Set<ExitHook>();
let installed = false;
let running: Promise<void> | undefined;

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

/** Is the signal handler installed? (Tests check that nothing is left behind.) */
/** A signal's cleanups have started: work under way should stop, not look for another way to finish. */
export function cleanupsStarted(): boolean {
  return running !== undefined;
}

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
  log.warn('signal received: stopping recordings and removing VMs', { signal, pending: pending.size });
  running = runCleanups().finally(() => {
    running = undefined;
    uninstall();
    // Nobody else handles the signal (Playwright might): do what it would have done without us.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    // The process goes on: cleanups registered meanwhile get the next signal.
    else if (pending.size > 0) install();
  });
}
