import { Virsh } from './virsh.js';
import { VirshError } from './errors.js';

export type DomainState = 'running' | 'paused' | 'shut off' | 'crashed' | 'pmsuspended' | 'in shutdown' | 'idle' | 'unknown';

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  state: string;
}

/** One libvirt domain, by name. All calls go through virsh. */
export class Domain {
  constructor(
    readonly name: string,
    readonly virsh: Virsh = new Virsh(),
  ) {}

  static async define(virsh: Virsh, xmlPath: string, name: string): Promise<Domain> {
    await virsh.run(['define', xmlPath]);
    return new Domain(name, virsh);
  }

  async exists(): Promise<boolean> {
    return (await this.virsh.tryRun(['domid', this.name])) !== undefined || (await this.virsh.tryRun(['dominfo', this.name])) !== undefined;
  }

  async start(): Promise<void> {
    await this.virsh.run(['start', this.name]);
  }

  async state(): Promise<DomainState> {
    const out = await this.virsh.run(['domstate', this.name], { quiet: true });
    return (out.trim() as DomainState) || 'unknown';
  }

  async xml(): Promise<string> {
    return this.virsh.run(['dumpxml', this.name], { quiet: true });
  }

  /** The VNC TCP port libvirt's autoport gave this domain (changes when QEMU restarts). */
  async vncPort(): Promise<number> {
    const out = (await this.virsh.run(['vncdisplay', this.name], { quiet: true })).trim();
    const m = out.match(/:(\d+)\s*$/);
    if (!m) throw new VirshError(`vncdisplay ${this.name}`, `unexpected answer: ${JSON.stringify(out)}`);
    return 5900 + Number(m[1]);
  }

  /** Hard power-off. Ignores "not running". */
  async destroy(): Promise<void> {
    await this.virsh.tryRun(['destroy', this.name]);
  }

  /** Forget the definition and its snapshot metadata. Ignores "no such domain". */
  async undefine(): Promise<void> {
    await this.virsh.tryRun(['undefine', this.name, '--snapshots-metadata', '--nvram']);
    if (await this.virsh.tryRun(['dominfo', this.name])) await this.virsh.tryRun(['undefine', this.name]);
  }

  /** destroy + undefine, for cleanup paths that must not throw. */
  async remove(): Promise<void> {
    await this.destroy();
    await this.undefine();
  }

  async screenshot(file: string): Promise<void> {
    await this.virsh.run(['screenshot', this.name, file]);
  }

  /** An internal snapshot of disk and memory, taken while running. */
  async snapshot(name: string, description = ''): Promise<void> {
    const args = ['snapshot-create-as', this.name, name, '--atomic'];
    if (description) args.push('--description', description);
    await this.virsh.run(args, { timeout: 300_000 });
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    const out = await this.virsh.run(['snapshot-list', this.name]);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((line) => {
        const m = line.match(/^(\S+)\s+(\S+ \S+ \S+)\s+(.+)$/);
        return m ? { name: m[1], createdAt: m[2], state: m[3].trim() } : { name: line.split(/\s+/)[0], createdAt: '', state: '' };
      });
  }

  /** Revert to a snapshot. libvirt 9 restarts the QEMU process: VNC drops and the port may change. */
  async revert(name: string): Promise<void> {
    await this.virsh.run(['snapshot-revert', this.name, name, '--running'], { timeout: 300_000 });
  }

  async deleteSnapshot(name: string): Promise<void> {
    await this.virsh.run(['snapshot-delete', this.name, name]);
  }

  /** Send a JSON command to the qemu-guest-agent and return its `return` value. */
  async agent<T = unknown>(command: string, args?: Record<string, unknown>, timeoutSec = 30): Promise<T> {
    const payload = JSON.stringify(args ? { execute: command, arguments: args } : { execute: command });
    const out = await this.virsh.run(['qemu-agent-command', this.name, '--timeout', String(timeoutSec), payload], {
      quiet: true,
      timeout: (timeoutSec + 10) * 1000,
    });
    return (JSON.parse(out) as { return: T }).return;
  }
}
