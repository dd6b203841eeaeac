/**
 * The Vm's actions that have not finished yet, each with the line of the script that started it.
 * An action still running when its test ends (or its VM closes) was almost always called
 * without `await`: it would otherwise fail later, outside any test, with an error about a closed
 * VNC connection that names no line of the user's code.
 *
 * Not so when the test was cut short (Ctrl-C, a timeout, Playwright's interruption): the
 * actions it was awaiting are still running then, and are dropped quietly.
 */
import { UsageError } from '../errors.js';
import { cleanupsStarted, signalsReceived } from '../process-exit.js';
import type { CallSite } from './steps.js';

/** Actions still running when they should have finished: a missing `await`. */
export class MissingAwaitError extends UsageError {
  override readonly code: string = 'EMISSINGAWAIT';
}

interface RunningAction {
  title: string;
  site?: CallSite;
  /** signalsReceived() when it started: a later signal cut it short. */
  signals: number;
}

export interface CheckOptions {
  /** The test or script was cut short (timed out, interrupted): what still runs was awaited. */
  cutShort?: boolean;
}

export class PendingActions {
  private readonly running = new Map<Promise<unknown>, RunningAction>();

  /**
   * Follows `action` until it settles. Returns the promise to hand the caller: it settles as
   * `action` does, and if nobody awaits it and it fails, that is still an unhandled rejection
   * (Playwright then fails the test it happened in) unless check() has reported it.
   */
  track<T>(title: string, site: CallSite | undefined, action: Promise<T>): Promise<T> {
    const tracked = action.finally(() => this.running.delete(tracked));
    this.running.set(tracked, { title, site, signals: signalsReceived() });
    return tracked;
  }

  /**
   * Throws MissingAwaitError when actions are still running `when` (e.g. 'when the test ended'),
   * naming each with its line. Their later results are dropped: this error reports them. Actions
   * cut short (by a signal, or `cutShort`) are dropped without an error.
   */
  check(when: string, options: CheckOptions = {}): void {
    if (this.running.size === 0) return;
    const all = [...this.running.entries()];
    this.running.clear();
    for (const [action] of all) action.catch(() => undefined);
    const interrupted = options.cutShort || cleanupsStarted();
    const stragglers = interrupted ? [] : all.filter(([, a]) => a.signals === signalsReceived());
    if (stragglers.length === 0) return;
    const lines = stragglers.map(([, a]) => `  ${a.title}${a.site ? ` (${a.site.file}:${a.site.line}:${a.site.column})` : ''}`);
    throw new MissingAwaitError(
      `${stragglers.length === 1 ? 'a VM action was' : `${stragglers.length} VM actions were`} still running ${when}: missing \`await\`?\n${lines.join('\n')}`,
      'every vm action returns a promise: write `await vm.…`, or the test goes on (and may end) before the action is done',
    );
  }
}
