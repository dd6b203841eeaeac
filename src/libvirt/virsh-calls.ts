/**
 * The virsh calls this process has running. A signal's cleanup removes a booting VM, and a
 * define or restore already running may make the domain again after that: the cleanup waits
 * for the calls running then, and removes the VM once more.
 */
const running = new Set<Promise<unknown>>();

/** Counts `call` as running until it settles; returns it. */
export function trackVirshCall<T>(call: Promise<T>): Promise<T> {
  running.add(call);
  const done = () => void running.delete(call);
  call.then(done, done);
  return call;
}

/** Settles when every virsh call running now has ended (calls started later are not waited for). */
export async function virshCallsSettled(): Promise<void> {
  await Promise.allSettled([...running]);
}
