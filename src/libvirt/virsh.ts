import { execa } from 'execa';
import { createLogger, type Logger } from '../log.js';
import { VirshError } from './errors.js';

export const DEFAULT_LIBVIRT_URI = 'qemu:///session';

/** The libvirt URI in use: DEMOTOOL_LIBVIRT_URI, else qemu:///session. */
export function libvirtUri(): string {
  return process.env.DEMOTOOL_LIBVIRT_URI || DEFAULT_LIBVIRT_URI;
}

/** Thin, typed access to `virsh -c URI`. Every failure becomes a VirshError, logged with file:line. */
export class Virsh {
  readonly uri: string;
  private readonly log: Logger;

  constructor(options: { uri?: string; log?: Logger } = {}) {
    this.uri = options.uri ?? libvirtUri();
    this.log = options.log ?? createLogger('virsh');
  }

  async run(args: string[], options: { timeout?: number; quiet?: boolean } = {}): Promise<string> {
    const result = await execa('virsh', ['-q', '-c', this.uri, ...args], {
      reject: false,
      timeout: options.timeout ?? 120_000,
      stdin: 'ignore',
    });
    if (result.failed) {
      const timeout = options.timeout ?? 120_000;
      const stderr = result.timedOut ? `timed out after ${timeout} ms` : result.stderr || result.shortMessage || String(result.exitCode);
      const error = new VirshError(args.join(' '), stderr);
      if (!options.quiet) this.log.error('virsh failed', { command: args.join(' '), stderr: stderr.trim() });
      throw error;
    }
    return result.stdout;
  }

  /** Like run(), but returns undefined instead of throwing (for "delete if it exists"). */
  async tryRun(args: string[]): Promise<string | undefined> {
    try {
      return await this.run(args, { quiet: true });
    } catch {
      return undefined;
    }
  }

  async listDomains(): Promise<string[]> {
    const out = await this.run(['list', '--all', '--name']);
    return out.split('\n').map((s) => s.trim()).filter(Boolean);
  }

  /** Does libvirt answer at all? */
  async ping(): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
    try {
      return { ok: true, version: (await this.run(['version'], { quiet: true, timeout: 15_000 })).split('\n').pop() ?? '' };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }
}
