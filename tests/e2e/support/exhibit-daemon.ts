import { execa, type ResultPromise } from 'execa';

/** Status fields the exhibit tests read from GET /api/v1/status. */
export interface ExhibitStatus {
  vm_name: string;
  vm_state: string;
  state: string;
  reverts: number;
  heartbeat: { timeout: number; has_received_heartbeat: boolean };
  last_revert: { reason: string; detail?: string; ok: boolean } | null;
  guest: { http: string | null; serial: boolean; heartbeats: number };
}

/** `demotool exhibit --config FILE` as a real child process, as systemd would run it. */
export class DaemonProcess {
  private output = '';
  readonly child: ResultPromise<{ reject: false; all: true }>;

  constructor(config: string, env: Record<string, string> = {}) {
    this.child = execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', '--config', config], {
      reject: false,
      all: true,
      env: { DEMOTOOL_LOG_LEVEL: 'info', ...env },
    });
    this.child.all?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  get log(): string {
    return this.output;
  }

  /** The control API's URL, once the daemon says it is watching. */
  async url(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /status page and API at (http:\/\/\S+)/.exec(this.output);
      if (m?.[1]) return m[1];
      if (this.child.exitCode !== null) throw new Error(`the daemon exited (${this.child.exitCode}):\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`the daemon did not start within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async status(url: string): Promise<ExhibitStatus> {
    return (await (await fetch(`${url}/api/v1/status`)).json()) as ExhibitStatus;
  }

  /** Waits until the log (from `from`) matches. */
  async waitForLog(pattern: RegExp, timeoutMs: number, from = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output.slice(from))) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the daemon's log within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends `signal` and waits for the exit code (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<number | undefined> {
    if (this.child.exitCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.child;
    clearTimeout(timer);
    return result.exitCode;
  }
}
