import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { scratchDir } from '../../support/scratch-dir.js';
import path from 'node:path';

/** Puts a logging `virsh` on PATH in front of the real one: a test reads which calls were made (none, for input refused up front). */
export function virshLog(): { calls: () => string[]; restore: () => void } {
  const real = ['/usr/bin/virsh', '/usr/local/bin/virsh'].find((p) => existsSync(p));
  if (!real) throw new Error('no virsh installed');
  const wrapper = scratchDir('virsh-log');
  const log = path.join(wrapper, 'calls.log');
  writeFileSync(path.join(wrapper, 'virsh'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(path.join(wrapper, 'virsh'), 0o755);
  const old = process.env.PATH;
  process.env.PATH = `${wrapper}:${old}`;
  return { calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []), restore: () => (process.env.PATH = old) };
}

/** The virsh command of a logged call ("-q -c URI domblklist NAME" → "domblklist"): not a word of a domain's name. */
export function virshCommand(call: string): string | undefined {
  return call.split(' ').find((word, i, all) => !word.startsWith('-') && all[i - 1] !== '-c');
}
