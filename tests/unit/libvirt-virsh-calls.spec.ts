/** The virsh calls a signal's cleanup waits for: the ones running when it asks, however they end. */
import { test, expect } from '@playwright/test';
import { trackVirshCall, virshCallsSettled } from '../../src/libvirt/virsh-calls.js';

/** A call that ends when `end` is called, with a value or (fail) an error. */
function call() {
  let end!: (fail?: boolean) => void;
  const p = new Promise<string>((resolve, reject) => (end = (fail) => (fail ? reject(new Error('virsh failed')) : resolve('ok'))));
  return { p: trackVirshCall(p), end };
}

/** Has `p` settled within a few turns of the event loop? */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 10));
  return done;
}

test('waits for every call running when asked, whether it succeeds or fails', async () => {
  const a = call();
  const b = call();
  b.p.catch(() => undefined);
  const all = virshCallsSettled();
  expect(await settled(all)).toBe(false);
  a.end();
  expect(await settled(all)).toBe(false);
  b.end(true);
  expect(await settled(all)).toBe(true);
});

test('a call started after the question is not waited for; one that has ended is forgotten', async () => {
  const before = call();
  before.end();
  await before.p;
  const all = virshCallsSettled();
  const later = call();
  expect(await settled(all)).toBe(true);
  later.end();
  await later.p;
});

test('the tracked call is the same promise, with its own value and error', async () => {
  const ok = call();
  ok.end();
  await expect(ok.p).resolves.toBe('ok');
  const failing = call();
  failing.end(true);
  await expect(failing.p).rejects.toThrow('virsh failed');
});
