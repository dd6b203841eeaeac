import { readdirSync, rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** A VM's files in the run directory: `{vmName}.{suffix}` (overlay, serial log, sockets, owner record; `vnc/{vmName}.services/`, a directory). */
function isVmFile(file: string, vmName: string): boolean {
  return file.startsWith(`${vmName}.`);
}

/** The owner record goes last: a crash meanwhile leaves files the stale sweep can still prove abandoned. */
const byOwnerLast = (a: string, b: string) => Number(a.endsWith('.owner.json')) - Number(b.endsWith('.owner.json'));

/** The VNC socket lives one level down, in the owner-only vnc/ directory. */
const SUBDIRS = ['vnc'];

/** Remove every file of one VM from the run directory. VM names are unique, so nothing else matches. */
export async function removeRunFiles(dir: string, vmName: string): Promise<void> {
  for (const sub of SUBDIRS) {
    const inner = join(dir, sub);
    for (const f of (await readdir(inner).catch(() => [] as string[])).filter((file) => isVmFile(file, vmName)))
      await rm(join(inner, f), { recursive: true, force: true });
  }
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => isVmFile(f, vmName)).sort(byOwnerLast);
  for (const f of files) await rm(join(dir, f), { force: true });
}

export function removeRunFilesSync(dir: string, vmName: string): void {
  for (const sub of SUBDIRS) {
    const inner = join(dir, sub);
    try {
      for (const f of readdirSync(inner).filter((file) => isVmFile(file, vmName))) rmSync(join(inner, f), { recursive: true, force: true });
    } catch {
      // no such directory
    }
  }
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files.filter((file) => isVmFile(file, vmName)).sort(byOwnerLast)) rmSync(join(dir, f), { force: true });
}
