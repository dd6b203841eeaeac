/**
 * Waits on a condition that is re-checked whenever the owner calls notify(). Every wait
 * has a deadline; rejectAll() ends them all (on close) so no timer outlives the client.
 */
import { timer } from '../timeouts.js';

type Check<T> = () => { value: T } | Error | undefined;

interface Waiter {
  run(): void;
  fail(err: Error): void;
}

export class Waiters {
  private readonly pending = new Set<Waiter>();

  /** Resolves with check()'s value once it has one; rejects with its error, on timeout, or when `signal` aborts. */
  wait<T>(check: Check<T>, timeoutMs: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (fn: () => void) => {
        clearTimeout(armed);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(waiter);
        fn();
      };
      const onAbort = () => waiter.fail(signal!.reason as Error);
      const waiter: Waiter = {
        run: () => {
          const r = check();
          if (r instanceof Error) settle(() => reject(r));
          else if (r) settle(() => resolve(r.value));
        },
        fail: (err) => settle(() => reject(err)),
      };
      const armed = timer(() => waiter.fail(onTimeout()), timeoutMs);
      this.pending.add(waiter);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.run();
    });
  }

  notify(): void {
    for (const w of [...this.pending]) w.run();
  }

  rejectAll(err: Error): void {
    for (const w of [...this.pending]) w.fail(err);
  }
}

/** Reject with `onTimeout()` if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(armed);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => (done(), reject(signal?.reason));
    const armed = timer(() => (done(), reject(onTimeout())), ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (done(), resolve(v)),
      (e) => (done(), reject(e)),
    );
  });
}
