import { UsageError } from '../errors.js';
import { execa } from 'execa';
import { createLogger, type Logger } from '../log.js';
import { VirshError } from './errors.js';
import { trackVirshCall } from './virsh-calls.js';

export const DEFAULT_LIBVIRT_URI = 'qemu:///session';

/** The libvirt URI in use: DEMOTOOL_LIBVIRT_URI, else qemu:///session. */
export function libvirtUri(): string {
  return process.env.DEMOTOOL_LIBVIRT_URI || DEFAULT_LIBVIRT_URI;
}

/**
 * One command line for virsh's shell: every argument single-quoted, a quote inside written as
 * '\'' (as in sh). A newline would end the command and readline takes a tab or other control
 * character as an editing key, so those are refused.
 */
export function virshShellLine(args: string[]): string {
  return args
    .map((a) => {
      // eslint-disable-next-line no-control-regex
      if (/[\x00-\x1f\x7f]/.test(a)) throw new UsageError(`a virsh argument must not contain a newline, tab or other control character: ${JSON.stringify(a)}`);
      return `'${a.replace(/'/g, `'\\''`)}'`;
    })
    .join(' ');
}

/**
 * What one command printed in virsh's shell. Its stdout is the prompt, readline's echo of the
 * input line, the output, and the prompt again at end of input. The echo is the line itself
 * under most terminals, but with TERM unset or dumb (a service, cron, a container) readline
 * scrolls a long line sideways: "\r<" and its tail. Either way it runs to the first newline
 * and starts with the line's opening quote or a carriage return; output never does.
 */
export function virshShellOutput(stdout: string): string {
  let out = stdout;
  const prompt = /^virsh [#>] /.exec(out)?.[0];
  if (prompt) out = out.slice(prompt.length);
  const echoEnd = out.indexOf('\n');
  if (echoEnd >= 0 && /^['\r]/.test(out)) out = out.slice(echoEnd + 1);
  return out.replace(/virsh [#>] ?\n?$/, '').trim();
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
    const result = await trackVirshCall(
      execa('virsh', ['-q', '-c', this.uri, ...args], {
        reject: false,
        timeout: options.timeout ?? 120_000,
        stdin: 'ignore',
      }),
    );
    if (result.failed) {
      const timeout = options.timeout ?? 120_000;
      const stderr = result.timedOut ? `timed out after ${timeout} ms` : result.stderr || result.shortMessage || String(result.exitCode);
      const error = new VirshError(args.join(' '), stderr);
      if (!options.quiet) this.log.error('virsh failed', { command: args.join(' '), stderr: stderr.trim() });
      throw error;
    }
    return result.stdout;
  }

  /**
   * Runs one command through virsh's own shell, read from stdin, so that its arguments never
   * appear on a command line: `ps` shows every user each process's argv, and guest commands
   * with their environment must not be shown. Errors name the command word only.
   */
  async runPrivate(args: string[], options: { timeout?: number } = {}): Promise<string> {
    const timeout = options.timeout ?? 120_000;
    const line = virshShellLine(args);
    const result = await trackVirshCall(
      execa('virsh', ['-q', '-c', this.uri], {
        reject: false,
        timeout,
        input: `${line}\n`,
      }),
    );
    // The shell always exits 0: a failed command shows as "error: ..." on stderr.
    const stderr = result.timedOut ? `timed out after ${timeout} ms` : result.stderr;
    if (result.timedOut || result.exitCode !== 0 || /^error:/m.test(result.stderr ?? '')) {
      throw new VirshError(`${args[0]} (arguments not shown)`, stderr || result.shortMessage || String(result.exitCode));
    }
    return virshShellOutput(result.stdout);
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
    return out
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
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
