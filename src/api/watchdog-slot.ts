import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { VncClient } from '../vnc/index.js';
import { Watchdog, type RevertRecord, type WatchdogOptions, type WatchedVm } from '../watchdog/index.js';

/** A VM's one watchdog: both of two would answer the same guest channels. */
export class WatchdogSlot {
  private current?: Watchdog;

  /**
   * Starts a watchdog on `vm`, whose recoveries drop `vnc` (QEMU restarts) as expected.
   * @throws {@link UsageError} while another one runs.
   */
  async start(vm: WatchedVm, vnc: VncClient, options: WatchdogOptions, log: Logger): Promise<Watchdog> {
    if (this.current)
      throw new UsageError(`VM ${vm.name} has a watchdog already`, 'close it first (one watchdog per VM: both would answer the same guest channels)');
    const watchdog = await Watchdog.start(vm, options, log);
    expectDropsWhileRecovering(watchdog, vnc);
    this.current = watchdog;
    watchdog.once('close', () => {
      if (this.current === watchdog) this.current = undefined;
    });
    return watchdog;
  }

  /**
   * A watchdog runs that brings a stopped VM back (its auto-revert on, not given up, not told
   * to keep the VM stopped): a wait on the VM may still succeed after a fault.
   */
  get recovers(): boolean {
    const watchdog = this.current;
    return !!watchdog && watchdog.autoRevert && !['failed', 'stopped', 'closed'].includes(watchdog.state);
  }

  /** Closes the running watchdog, if any; its errors are not the caller's concern. */
  async close(): Promise<void> {
    await this.current?.close().catch(() => undefined);
  }
}

/**
 * A recovery that restarts QEMU (a snapshot revert, a restart) drops VNC, which then reconnects:
 * from the recovery's start to the reconnect (or the recovery's end without one), the drop is
 * expected, not warned about.
 */
function expectDropsWhileRecovering(watchdog: Watchdog, vnc: VncClient): void {
  let unexpect: (() => void) | undefined;
  const end = () => {
    unexpect?.();
    unexpect = undefined;
  };
  watchdog.on('revert-start', () => {
    end();
    unexpect = vnc.expectDisconnect('the watchdog is recovering the VM');
  });
  watchdog.on('revert', (record: RevertRecord) => {
    if (record.method === 'in-place' || record.error) end();
  });
  watchdog.on('failed', end);
  vnc.on('reconnect', end);
  watchdog.once('close', () => {
    end();
    vnc.off('reconnect', end);
  });
}
