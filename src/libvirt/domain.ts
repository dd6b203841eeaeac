import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Virsh } from './virsh.js';
import { VirshError, VmError } from './errors.js';
import { checkSnapshotName } from './snapshot-name.js';

export type DomainState = 'running' | 'paused' | 'shut off' | 'crashed' | 'pmsuspended' | 'in shutdown' | 'idle' | 'unknown';

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  state: string;
}

/**
 * One libvirt domain. All calls go through virsh, by UUID when it is known: a name can be
 * taken over by another run's domain, a UUID can't.
 */
export class Domain {
  constructor(
    readonly name: string,
    readonly virsh: Virsh = new Virsh(),
    readonly uuid?: string,
  ) {}

  /** What virsh is given to name this domain. */
  get ref(): string {
    return this.uuid ?? this.name;
  }

  /** Define the domain from an XML file (its name and UUID must be this Domain's). */
  async define(xmlPath: string): Promise<void> {
    await this.virsh.run(['define', xmlPath]);
  }

  async exists(): Promise<boolean> {
    // dominfo answers for a running and a shut-off domain alike: one virsh call.
    return (await this.virsh.tryRun(['dominfo', this.ref])) !== undefined;
  }

  async start(): Promise<void> {
    await this.virsh.run(['start', this.ref]);
  }

  /** Writes the running guest's memory and devices to `file` (libvirt's save image) and stops it; the disk is left as it was at that moment. */
  async save(file: string, timeout = 300_000): Promise<void> {
    await this.virsh.run(['save', this.ref, file], { quiet: true, timeout: boundedTimeout(timeout) });
  }

  /** Starts this domain from a save image whose XML names it (see save-image.ts), running. */
  async restore(file: string, timeout = 300_000): Promise<void> {
    await this.virsh.run(['restore', file], { quiet: true, timeout: boundedTimeout(timeout) });
  }

  async state(): Promise<DomainState> {
    const out = await this.virsh.run(['domstate', this.ref], { quiet: true });
    return (out.trim() as DomainState) || 'unknown';
  }

  /** State and libvirt's reason for it ("shut off", "crashed"), bounded by `timeout` ms. */
  async stateWithReason(timeout = 5_000): Promise<{ state: DomainState; reason: string }> {
    const out = (await this.virsh.run(['domstate', this.ref, '--reason'], { quiet: true, timeout })).trim();
    const m = out.match(/^(.*?)\s*\((.*)\)$/);
    return m ? { state: m[1] as DomainState, reason: m[2] ?? '' } : { state: (out as DomainState) || 'unknown', reason: '' };
  }

  /** Resume a paused (or panicked) domain. */
  async resume(timeout = 10_000): Promise<void> {
    await this.virsh.run(['resume', this.ref], { quiet: true, timeout });
  }

  /**
   * A human-monitor command sent straight to QEMU. HMP reports errors as text with success
   * status, so any output that starts like an error is thrown.
   */
  async hmp(command: string, timeout = 10_000): Promise<string> {
    const out = await this.virsh.run(['qemu-monitor-command', this.ref, '--hmp', command], { quiet: true, timeout });
    if (/^(Error|error|Could not|Snapshot .* (does not exist|not found)|Unknown command)/m.test(out.trim()))
      throw new VirshError(`qemu-monitor-command --hmp ${command}`, out.trim());
    return out;
  }

  async xml(): Promise<string> {
    return this.virsh.run(['dumpxml', this.ref], { quiet: true });
  }

  /** The VNC TCP port libvirt's autoport gave this domain (changes when QEMU restarts). */
  async vncPort(): Promise<number> {
    const out = (await this.virsh.run(['vncdisplay', this.ref], { quiet: true })).trim();
    const m = out.match(/:(\d+)\s*$/);
    if (!m) throw new VirshError(`vncdisplay ${this.name}`, `unexpected answer: ${JSON.stringify(out)}`);
    return 5900 + Number(m[1]);
  }

  /** Forget the definition and its snapshot metadata. Ignores "no such domain". */
  async undefine(): Promise<void> {
    await this.virsh.tryRun(['undefine', this.ref, '--snapshots-metadata', '--nvram']);
    if (await this.virsh.tryRun(['dominfo', this.ref])) await this.virsh.tryRun(['undefine', this.ref]);
  }

  /**
   * Power off and undefine. Throws when that fails: libvirt can't be reached and QEMU may still
   * run on the overlay, so the caller must keep it. A domain that is already gone is fine.
   */
  async remove(timeout = 30_000): Promise<void> {
    try {
      await this.powerOff(timeout);
    } catch (e) {
      if (!isDomainGone(e)) throw e;
    }
    try {
      await this.virsh.run(['undefine', this.ref, '--snapshots-metadata', '--nvram'], { quiet: true, timeout });
    } catch (e) {
      if (!isDomainGone(e)) throw e;
    }
  }

  /** Power off and undefine, synchronously and best-effort: for the process's 'exit' event, where nothing async runs. */
  removeSync(): void {
    const base = ['-q', '-c', this.virsh.uri];
    spawnSync('virsh', [...base, 'destroy', this.ref], { stdio: 'ignore', timeout: 15_000 });
    spawnSync('virsh', [...base, 'undefine', this.ref, '--snapshots-metadata', '--nvram'], { stdio: 'ignore', timeout: 15_000 });
  }

  async screenshot(file: string): Promise<void> {
    await this.virsh.run(['screenshot', this.ref, file]);
  }

  /** An internal snapshot of disk and memory, taken while running. */
  async snapshot(name: string, description = '', timeout = 300_000): Promise<void> {
    const args = ['snapshot-create-as', '--domain', this.ref, '--name', checkSnapshotName(name), '--atomic'];
    if (description) args.push('--description', description);
    await this.virsh.run(args, { timeout });
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    const out = await this.virsh.run(['snapshot-list', this.ref]);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((line) => {
        const m = line.match(/^(\S+)\s+(\S+ \S+ \S+)\s+(.+)$/);
        return m?.[1] && m[2] && m[3] ? { name: m[1], createdAt: m[2], state: m[3].trim() } : { name: line.split(/\s+/)[0] ?? line, createdAt: '', state: '' };
      });
  }

  /** Revert to a snapshot. libvirt 9 restarts the QEMU process: VNC drops and the port may change. */
  async revert(name: string, timeout = 300_000): Promise<void> {
    const args = ['snapshot-revert', '--domain', this.ref, '--snapshotname', checkSnapshotName(name), '--running'];
    try {
      await this.virsh.run(args, { timeout, quiet: true });
    } catch (e) {
      // From some states (crashed, or a changed definition) libvirt wants --force to revert.
      if (!/--force|revert requires force/i.test((e as Error).message)) throw e;
      await this.virsh.run([...args, '--force'], { timeout });
    }
  }

  async deleteSnapshot(name: string, timeout = 120_000): Promise<void> {
    await this.virsh.run(['snapshot-delete', '--domain', this.ref, '--snapshotname', checkSnapshotName(name)], { timeout });
  }

  /**
   * The QEMU process of this domain on this host, found by its command line (`-name guest=NAME,`),
   * or undefined. For when QEMU's monitor does not answer and libvirt can't be asked.
   */
  qemuPid(): number | undefined {
    const needle = `-name\0guest=${this.name},`;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(needle)) return Number(entry);
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
    return undefined;
  }

  /** Hard power-off (virsh destroy), bounded by `timeout` ms. Throws unless it worked or the domain was not running. */
  async powerOff(timeout = 30_000): Promise<void> {
    try {
      await this.virsh.run(['destroy', this.ref], { quiet: true, timeout });
    } catch (e) {
      if (!/not running|domain is not running/i.test((e as Error).message)) throw e;
    }
  }

  /**
   * Send a JSON command to the qemu-guest-agent and return its `return` value. The JSON (guest
   * commands, their environment) goes to virsh on stdin, never on its command line, where `ps`
   * would show it to every local user.
   */
  async agent<T = unknown>(command: string, args?: Record<string, unknown>, timeoutSec = 30): Promise<T> {
    const payload = JSON.stringify(args ? { execute: command, arguments: args } : { execute: command });
    const out = await this.virsh.runPrivate(['qemu-agent-command', this.ref, '--timeout', String(timeoutSec), payload], {
      timeout: (timeoutSec + 10) * 1000,
    });
    return agentReturn<T>(command, out);
  }
}

/**
 * The `return` of the agent's JSON reply. Anything else is a VmError that shows what virsh
 * printed, but never the request: that echo could carry a guest command's environment.
 */
function agentReturn<T>(command: string, out: string): T {
  try {
    const reply = JSON.parse(out) as { return?: T };
    if (reply && typeof reply === 'object' && 'return' in reply) return reply.return as T;
  } catch {
    // reported below
  }
  const shown = out.includes('qemu-agent-command') ? '(it holds the request, not shown)' : JSON.stringify(out.slice(0, 200));
  throw new VmError('EAGENTREPLY', `the guest agent's reply to ${command} is not its JSON answer: ${shown}`, {
    hint: 'virsh printed something else than the reply: report it with `virsh --version` and the TERM it ran under',
  });
}

/** A boot without a time limit (Infinity) still bounds each virsh call: an hour. */
function boundedTimeout(ms: number): number {
  return Number.isFinite(ms) ? Math.max(1, Math.round(ms)) : 3_600_000;
}

/** virsh failed because the domain does not exist (any more): not a libvirt that can't be reached. */
export function isDomainGone(error: unknown): boolean {
  return /failed to get domain|no domain with matching|Domain not found/i.test((error as Error)?.message ?? '');
}
