import { onCleanup } from '../process-exit.js';

/** A recording that can be finished in a hurry, never throwing. */
interface Interruptible {
  interrupt(): Promise<void>;
}

const active = new Set<Interruptible>();
let unregister: (() => void) | undefined;

/** Finishes every active recording, together, so each video is playable before the process goes. */
async function interruptAll(): Promise<void> {
  await Promise.allSettled([...active].map((r) => r.interrupt()));
}

/** While a recording runs, a signal finishes it (see process-exit.ts). */
export function trackRecording(r: Interruptible): void {
  active.add(r);
  unregister ??= onCleanup(interruptAll);
}

export function untrackRecording(r: Interruptible): void {
  if (!active.delete(r) || active.size > 0) return;
  unregister?.();
  unregister = undefined;
}
