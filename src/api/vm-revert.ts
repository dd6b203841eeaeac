import { checkSnapshotName, type Domain } from '../libvirt/index.js';
import type { VncClient } from '../vnc/index.js';
import { TimeoutError } from '../errors.js';
import { sleep, timer } from '../timeouts.js';

/**
 * Reverts `domain` to `snapshot` and returns once the VNC client is connected again.
 * QEMU restarts on a revert, which drops the VNC connection; the client reconnects by
 * itself, so this only waits for its 'reconnect' (within `timeout` ms).
 */
export async function revertAndReconnect(domain: Domain, vnc: VncClient, snapshot: string, timeout: number): Promise<void> {
  let dropped = false;
  const onDrop = () => (dropped = true);
  vnc.on('disconnect', onDrop);
  const reconnected = waitForEvent(vnc, 'reconnect', timeout);
  reconnected.catch(() => undefined);
  const unexpect = vnc.expectDisconnect('a snapshot revert restarts QEMU');
  try {
    await domain.revert(snapshot);
    await sleep(300); // the old socket's close can lag the revert's return
    if (dropped || !vnc.connected) await reconnected;
  } finally {
    unexpect();
    vnc.off('disconnect', onDrop);
  }
}

/**
 * QEMU's own `loadvm` through its monitor: QEMU keeps running, so VNC stays connected, and it takes
 * well under a second where a restart takes several. False, having changed nothing that the
 * restarting revert doesn't put right, when it can't: the VM not running, a snapshot without
 * memory, or a load that failed half-way (QEMU then leaves the guest paused).
 */
export async function revertInPlace(domain: Domain, snapshot: string, timeout: number): Promise<boolean> {
  checkSnapshotName(snapshot);
  const state = () => domain.state().catch(() => 'unknown');
  if ((await state()) !== 'running') return false;
  try {
    await domain.hmp(`loadvm ${snapshot}`, timeout);
  } catch {
    return false;
  }
  if ((await state()) !== 'running') await domain.resume().catch(() => undefined);
  return (await state()) === 'running';
}

function waitForEvent(emitter: NodeJS.EventEmitter, event: string, timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = timer(() => {
      emitter.off(event, done);
      reject(new TimeoutError(`VNC reconnect after a snapshot revert`, timeout, { hint: 'is the VM still running? see `virsh list`' }));
    }, timeout);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    emitter.once(event, done);
  });
}
