/**
 * On SIGINT/SIGTERM/SIGHUP, finish active recordings (so their files are playable) before the
 * process goes. Handlers exist only while something is recording.
 */
type Stoppable = { interrupt(): Promise<void> };

const active = new Set<Stoppable>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let handling = false;

function onSignal(signal: NodeJS.Signals): void {
  if (handling) return;
  handling = true;
  const all = [...active];
  void Promise.allSettled(all.map((r) => r.interrupt())).then(() => {
    handling = false;
    unregister();
    // Nobody else listens: do what the signal would have done without us.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function register(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unregister(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
}

export function trackRecorder(r: Stoppable): void {
  if (active.size === 0) register();
  active.add(r);
}

export function untrackRecorder(r: Stoppable): void {
  if (!active.delete(r)) return;
  if (active.size === 0 && !handling) unregister();
}

/** For tests: are signal handlers installed? */
export function signalHandlersInstalled(): boolean {
  return process.listeners('SIGINT').includes(onSignal);
}
