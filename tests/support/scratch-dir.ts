import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();
// A test worker exits once its files are done (or it is restarted after a failure): the scratch
// dirs go with it, so a run leaves nothing in /tmp. Files that need a dir per test still get one.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed when the test worker exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `demotool-test-${prefix}-`));
  made.add(dir);
  return dir;
}
