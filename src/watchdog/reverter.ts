import type { Domain } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { isRunning } from '../process-identity.js';
import { sleep } from '../timeouts.js';
import { RevertFailure, WatchdogError } from './errors.js';
import type { RevertMethod } from './triggers.js';

export type RevertMethodOption = 'in-place' | 'snapshot-revert';

/** The pause before starting a VM again whose start just failed. */
const RETRY_AFTER_MS = 1_000;

/** Bounds on every libvirt call a recovery makes: a hung QEMU or virsh never blocks recovery. */
export interface RevertTimeouts {
  /** A quick monitor probe before an in-place load: a stopped QEMU fails it fast. */
  probeMs: number;
  /** One in-place load or one snapshot-revert. */
  revertMs: number;
  /** Killing QEMU. */
  killMs: number;
}

export const DEFAULT_REVERT_TIMEOUTS: RevertTimeouts = { probeMs: 3_000, revertMs: 120_000, killMs: 30_000 };

/**
 * Carries out recoveries on one domain.
 * - in-place: QEMU's own `loadvm` through the monitor. QEMU keeps running, so VNC and the
 *   guest network stay connected. A failed load leaves the VM paused: then snapshot-revert.
 * - snapshot-revert: libvirt's revert, which restarts QEMU (VNC reconnects).
 * - restart: kill QEMU, then snapshot-revert from shut off.
 */
export class Reverter {
  constructor(
    private readonly domain: Domain,
    private readonly snapshot: () => string,
    private readonly preferred: RevertMethodOption,
    private readonly timeouts: RevertTimeouts,
    private readonly log: Logger,
  ) {}

  /** Throws a RevertFailure naming the method that failed. */
  async revert(): Promise<RevertMethod> {
    if (this.preferred === 'in-place') {
      // One monitor round trip tells whether QEMU is up, answering, and running or paused.
      const probe = await this.domain.hmp('info status', this.timeouts.probeMs).then(
        (text) => ({ up: true as const, running: /status: running/.test(text) }),
        (e: Error) => ({ up: false as const, hung: /timed out|timeout/i.test(e.message) }),
      );
      if (!probe.up && probe.hung) {
        this.log.warn('QEMU monitor does not answer: killing QEMU and restarting', { probeMs: this.timeouts.probeMs });
        // libvirt's destroy waits 10 s for a SIGTERM that a stopped QEMU never takes: SIGKILL it first.
        await this.killQemu();
        return this.restart();
      }
      if (probe.up) {
        try {
          await this.inPlace(probe.running);
          return 'in-place';
        } catch (e) {
          this.log.warn('in-place revert failed: falling back to snapshot-revert', { error: (e as Error).message });
        }
      }
    }
    const { state } = await this.domain.stateWithReason(this.timeouts.probeMs).catch(() => ({ state: 'unknown' as const, reason: '' }));
    if (state === 'in shutdown' || state === 'idle' || state === 'pmsuspended') return this.restart();
    await failingAs('snapshot-revert', () => this.domain.revert(this.snapshot(), this.timeouts.revertMs));
    return 'snapshot-revert';
  }

  /** Throws a RevertFailure with method 'restart'. */
  async restart(): Promise<RevertMethod> {
    await failingAs('restart', async () => {
      await this.domain.powerOff(this.timeouts.killMs);
      await this.revertFromShutOff();
    });
    return 'restart';
  }

  /**
   * Right after QEMU was killed, libvirt's start of the new one has failed now and then: it
   * exited, silently, while libvirt connected to its monitor. The VM is then still shut off, and
   * one more try starts it.
   */
  private async revertFromShutOff(): Promise<void> {
    try {
      await this.domain.revert(this.snapshot(), this.timeouts.revertMs);
    } catch (e) {
      const { state } = await this.domain.stateWithReason(this.timeouts.probeMs).catch(() => ({ state: 'unknown' }));
      if (state !== 'shut off') throw e;
      this.log.warn('the revert from shut off failed and the VM is still off: trying once more', { error: (e as Error).message });
      await sleep(RETRY_AFTER_MS);
      await this.domain.revert(this.snapshot(), this.timeouts.revertMs);
    }
  }

  /** SIGKILL, then wait (within the kill timeout) until the process has exited, so that a new QEMU never meets the old. */
  private async killQemu(): Promise<void> {
    const pid = this.domain.qemuPid();
    if (!pid) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      this.log.warn('could not kill QEMU', { pid, error: (e as Error).message });
      return;
    }
    const deadline = performance.now() + this.timeouts.killMs;
    while (isRunning(pid) && performance.now() < deadline) await sleep(20);
  }

  async stop(): Promise<void> {
    await this.domain.powerOff(this.timeouts.killMs);
  }

  /** loadvm; QEMU resumes a guest that was running. A paused or panicked one stays paused: resume it. */
  private async inPlace(wasRunning: boolean): Promise<void> {
    await this.domain.hmp(`loadvm ${this.snapshot()}`, this.timeouts.revertMs);
    if (wasRunning) return;
    for (let i = 0; i < 3; i++) {
      // through libvirt, so that its idea of the state stays right
      await this.domain.resume(this.timeouts.probeMs).catch(() => this.domain.hmp('cont', this.timeouts.probeMs));
      const { state } = await this.domain.stateWithReason(this.timeouts.probeMs);
      if (state === 'running') return;
      await sleep(100);
    }
    const { state, reason } = await this.domain.stateWithReason(this.timeouts.probeMs);
    if (state !== 'running') throw new WatchdogError('ELOADVM', `the VM is ${state} (${reason}) after loadvm`);
  }
}

/** Runs a step of a recovery; its error becomes a RevertFailure naming `method`. */
async function failingAs(method: RevertMethod, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (e) {
    throw e instanceof RevertFailure ? e : new RevertFailure(method, e as Error);
  }
}
