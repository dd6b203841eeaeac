import type { Domain } from '../libvirt/index.js';
import { DemotoolError } from '../errors.js';
import { Deadline, defaultTimeout, sleep } from '../timeouts.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Run as this guest user (default: the image's desktop user, else root). */
  user?: string;
  timeout?: number;
  /** Extra environment, KEY=VALUE. DISPLAY=:0 is set for the desktop user. */
  env?: string[];
}

export class GuestAgentError extends DemotoolError {}

interface ExecStatus {
  exited: boolean;
  exitcode?: number;
  'out-data'?: string;
  'err-data'?: string;
}

/** Commands in the guest through qemu-guest-agent (virsh qemu-agent-command). */
export class GuestAgent {
  constructor(
    private readonly domain: Domain,
    private readonly available: boolean,
    private readonly defaultUser?: string,
  ) {}

  /** Waits until the agent answers (it starts late in boot). */
  async ready(timeout = defaultTimeout('exec'), signal?: AbortSignal): Promise<void> {
    this.assertAvailable();
    const deadline = new Deadline(timeout, 'the guest agent answering guest-ping');
    for (;;) {
      signal?.throwIfAborted();
      try {
        await this.domain.agent('guest-ping', undefined, 5);
        return;
      } catch (e) {
        if (deadline.expired()) throw deadline.error(undefined, { cause: e, hint: 'is qemu-guest-agent installed and enabled in the guest?' });
        await sleep(500, signal);
      }
    }
  }

  /** Runs `command`; `signal` ends the wait for it early (the guest's process runs on). */
  async exec(command: string, options: ExecOptions = {}, signal?: AbortSignal): Promise<ExecResult> {
    this.assertAvailable();
    const timeout = options.timeout ?? defaultTimeout('exec');
    await this.ready(timeout, signal);
    const user = options.user ?? this.defaultUser ?? 'root';
    const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(options.env ?? [])];
    if (user !== 'root') env.push(`HOME=/home/${user}`, `USER=${user}`, 'DISPLAY=:0');
    const argv = user === 'root' ? ['-c', command] : ['-u', user, '--', '/bin/sh', '-c', command];
    const { pid } = await this.domain.agent<{ pid: number }>('guest-exec', {
      path: user === 'root' ? '/bin/sh' : '/usr/sbin/runuser',
      arg: argv,
      env,
      'capture-output': true,
    });
    return this.collect(pid, command, timeout, signal);
  }

  private async collect(pid: number, command: string, timeout: number, signal?: AbortSignal): Promise<ExecResult> {
    const deadline = new Deadline(timeout, `guest command ${JSON.stringify(command)}`);
    for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
      signal?.throwIfAborted();
      const s = await this.domain.agent<ExecStatus>('guest-exec-status', { pid });
      if (s.exited)
        return {
          stdout: decode(s['out-data']),
          stderr: decode(s['err-data']),
          exitCode: s.exitcode ?? -1,
        };
      if (deadline.expired()) throw deadline.error();
      await sleep(wait, signal);
    }
  }

  private assertAvailable(): void {
    if (!this.available)
      throw new GuestAgentError('ENOAGENT', `this VM's image has no qemu-guest-agent, so vm.exec() cannot run commands`, {
        hint: 'use an image with the agent (debian-12-desktop), or type the command with vm.keyboard and read vm.serial',
      });
  }
}

const decode = (b64?: string) => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : '');
