/** Monotonic milliseconds (never jumps with the wall clock). Injected in tests. */
export type Clock = () => number;

export const monotonic: Clock = () => performance.now();
