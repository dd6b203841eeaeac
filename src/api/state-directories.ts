import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { xdgCache } from 'xdg-basedir';

/** demotool's own directory in the user's cache ($XDG_CACHE_HOME/demotool): the accelerator probe's result and the run directory. */
export function stateDir(): string {
  return join(xdgCache ?? join(tmpdir(), 'demotool-cache'), 'demotool');
}

/** Where running VMs keep their overlay and serial log. Emptied as VMs go away. */
export function runDir(): string {
  return join(stateDir(), 'run');
}
