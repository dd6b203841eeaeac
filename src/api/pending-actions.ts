/**
 * The Vm's actions that have not finished yet, each with the line of the script that started it.
 * An action still running when its test ends (or its VM closes) was almost always called
 * without `await`: it would otherwise fail later, outside any test, with an error about a closed
 * VNC connection that names no line of the user's code.
 */
import { UsageError } from '../errors.js';
import type { CallSite } from './steps.js';

/** Actions still running when they should have finished: a missing `await`. */
export class MissingAwaitError extends UsageError {
  override readonly code: string = 'EMISSINGAWAIT';
}

interface RunningAction {
  title: string;
  site?: CallSite;
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
    this.running.set(tracked, { title, site });
    return tracked;
  }

  /**
   * Throws MissingAwaitError when actions are still running `when` (e.g. 'when the test ended'),
   * naming each with its line. Their later results are dropped: this error reports them.
   */
  check(when: string): void {
    if (this.running.size === 0) return;
    const stragglers = [...this.running.entries()];
    this.running.clear();
    for (const [action] of stragglers) action.catch(() => undefined);
    const lines = stragglers.map(([, a]) => `  ${a.title}${a.site ? ` (${a.site.file}:${a.site.line}:${a.site.column})` : ''}`);
    throw new MissingAwaitError(
      `${stragglers.length === 1 ? 'a VM action was' : `${stragglers.length} VM actions were`} still running ${when}: missing \`await\`?\n${lines.join('\n')}`,
      'every vm action returns a promise: write `await vm.…`, or the test goes on (and may end) before the action is done',
    );
  }
}
