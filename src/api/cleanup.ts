import { createLogger } from '../log.js';

/**
 * Everything that must not outlive the process (VMs, overlays, encoders) registers a cleanup
 * here. On SIGINT/SIGTERM the cleanups run before the process goes; context exits run them too.
 */
type Cleanup = () => Promise<void>;
/** What must still happen when the process exits without running the async cleanups (an uncaught exception, process.exit()): synchronous only. */
type ExitCleanup = () => void;

const log = createLogger('cleanup');
const pending = new Set<Cleanup>();
const atExit = new Set<ExitCleanup>();
const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;
let running: Promise<void> | undefined;

export function onCleanup(fn: Cleanup): () => void {
  pending.add(fn);
  install();
  return () => {
    pending.delete(fn);
  };
}

/**
 * A synchronous last resort for when the process ends without the async cleanups: an
 * uncaught exception, an unhandled rejection or process.exit(). Runs in the 'exit' event.
 */
export function onExitSync(fn: ExitCleanup): () => void {
  atExit.add(fn);
  if (atExit.size === 1) process.on('exit', runExitCleanups);
  return () => {
    atExit.delete(fn);
    if (atExit.size === 0) process.off('exit', runExitCleanups);
  };
}

function runExitCleanups(): void {
  for (const fn of [...atExit].reverse()) {
    try {
      fn();
    } catch {
      // the process is going: nothing else can be done
    }
  }
  atExit.clear();
}

/** Run every pending cleanup once, in reverse order of registration. Never throws. */
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

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of signals) process.on(signal, handler);
}

function handler(signal: NodeJS.Signals): void {
  if (running) return;
  log.warn('signal received: removing VMs and stopping recordings', { signal, pending: pending.size });
  running = runCleanups().finally(() => {
    for (const s of signals) process.off(s, handler);
    installed = false;
    // Ready for the next signal (and the next VM) if the process goes on.
    running = undefined;
    // Re-raise so the default action (exit) happens, unless someone else (Playwright) handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}
