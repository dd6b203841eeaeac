import { execa } from 'execa';
import type { Logger } from '../log.js';
import { ImageBuildError } from './errors.js';

/** Lines of a tool's output kept for its error message. */
const TAIL_LINES = 25;

export interface RunOptions {
  image: string;
  step: string;
  log: Logger;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Debian package that provides the command, for the "not installed" hint. */
  aptPackage?: string;
  /** Hint used when the command runs but fails. */
  hint?: string;
  /** Every output line (stdout and stderr), e.g. to summarise progress. */
  onLine?: (line: string) => void;
  input?: string;
  timeoutMs?: number;
}

/**
 * Run a build tool. Failures become ImageBuildError naming the image, the step, the tail of
 * the tool's output and a hint; a missing tool gets an apt-get hint.
 */
export async function run(cmd: string, args: string[], o: RunOptions): Promise<{ stdout: string; stderr: string }> {
  const recent: string[] = [];
  const keep = function* (line: unknown) {
    const text = String(line);
    recent.push(text);
    if (recent.length > TAIL_LINES) recent.shift();
    o.onLine?.(text);
    yield line;
  };
  o.log.debug('run', { step: o.step, cmd, args: args.join(' ') });
  const r = await execa(cmd, args, {
    env: o.env,
    cwd: o.cwd,
    input: o.input,
    stdin: o.input === undefined ? 'ignore' : undefined,
    stdout: [keep],
    stderr: [keep],
    reject: false,
    timeout: o.timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.exitCode === 0) return { stdout: r.stdout, stderr: r.stderr };
  const missing = (r.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  throw new ImageBuildError({
    image: o.image,
    step: o.step,
    reason: missing ? `${cmd} is not installed` : r.timedOut ? `${cmd} timed out after ${o.timeoutMs} ms` : `${cmd} exited with ${r.exitCode ?? r.signal}`,
    stderrTail: missing ? undefined : recent.join('\n'),
    hint: missing ? `install ${cmd}${o.aptPackage ? `: apt-get install ${o.aptPackage}` : ''} (or run \`npx demotool setup --yes\`)` : o.hint,
    cause: r.cause ?? undefined,
  });
}
