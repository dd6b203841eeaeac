import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Domain } from './domain.js';
import { ownerState, parseOwnerFile, readDomainXml, type OwnerFile } from './owner.js';
import { Virsh } from './virsh.js';
import { createLogger, type Logger } from '../log.js';

export interface SweepOptions {
  /**
   * The run directory (where VMs keep overlays, sockets and serial logs). Only files in it, or
   * in a directory directly in it (the VNC sockets' vnc/), are ever deleted; without it, the
   * sweep removes VMs but no file.
   */
  runDir?: string;
  /** Only domains whose name starts with this are looked at ('demo-'). */
  prefix?: string;
  log?: Logger;
}

/**
 * VMs left behind by a run that was killed (SIGKILL, power loss) are found by their owner
 * record and removed, with their files in the run directory; so are the files of VMs whose
 * domain is already gone. Only what a provably dead owner left is touched: the owner's pid is
 * gone, or names another process now (start time), on this host and in this PID namespace.
 */
export async function removeStaleVms(virsh: Virsh = new Virsh(), options: SweepOptions | string = {}): Promise<string[]> {
  const opts: SweepOptions = typeof options === 'string' ? { prefix: options } : options;
  const prefix = opts.prefix ?? 'demo-';
  const log = opts.log ?? createLogger('cleanup');
  const runDir = opts.runDir && resolve(opts.runDir);
  const removed: string[] = [];
  const domains = await virsh.listDomains();
  const entries = runDir ? await runFiles(runDir) : [];
  const ownerFiles = await readOwnerFiles(runDir, entries);
  const known = [...new Set([...domains, ...ownerFiles.map((f) => f.vm)])];

  for (const name of domains.filter((n) => n.startsWith(prefix))) {
    try {
      const xml = await new Domain(name, virsh).xml().catch(() => '');
      const { owner, uuid, exhibit } = readDomainXml(xml);
      // An exhibit's VM belongs to its config, not to a process: no dead process makes it stale.
      if (!owner || exhibit !== undefined) continue;
      const verdict = ownerState(owner);
      if (verdict.state !== 'dead') continue;
      // By UUID: if the name was taken over since dumpxml, the newcomer is not touched.
      const domain = new Domain(name, virsh, uuid);
      await domain.remove();
      if (await domain.exists()) {
        log.warn('a stale VM could not be removed; its files are kept', { name, reason: verdict.reason });
        continue;
      }
      if (runDir) {
        // Listed again now that QEMU is gone: a start still under way at the first listing may have added sockets since.
        const files = filesOf(name, await runFiles(runDir), known);
        if (owner.overlay && isIn(runDir, owner.overlay) && !files.includes(basename(owner.overlay))) files.unshift(basename(owner.overlay));
        else if (owner.overlay && !isIn(runDir, owner.overlay))
          log.warn('stale VM: its overlay is outside the run directory and is left alone', { name, overlay: owner.overlay, runDir });
        await removeFiles(runDir, files, log);
      }
      log.warn('removed a VM left by a killed run', { name, ownerPid: owner.pid, reason: verdict.reason });
      removed.push(name);
    } catch (e) {
      log.warn('stale VM sweep: skipped one VM', { name, error: (e as Error).message });
    }
  }

  // Files of VMs whose domain is gone already (killed between overlay and define, or after undefine).
  if (runDir) {
    for (const record of ownerFiles) {
      if (record.uri !== virsh.uri || domains.includes(record.vm)) continue;
      const verdict = ownerState(record);
      if (verdict.state !== 'dead') continue;
      const files = filesOf(record.vm, entries, known);
      await removeFiles(runDir, files, log);
      log.warn('removed the files of a VM left by a killed run', { name: record.vm, ownerPid: record.pid, reason: verdict.reason, files: files.length });
      removed.push(record.vm);
    }
  }
  return removed;
}

/** The run directory's entries, and those of the real directories in it ('vnc/demo-x.sock'). */
async function runFiles(runDir: string): Promise<string[]> {
  const top = await readdir(runDir).catch(() => [] as string[]);
  const all = [...top];
  for (const entry of top) {
    const st = await lstat(resolve(runDir, entry)).catch(() => undefined);
    if (st?.isDirectory()) all.push(...(await readdir(resolve(runDir, entry)).catch(() => [] as string[])).map((f) => `${entry}/${f}`));
  }
  return all;
}

async function readOwnerFiles(runDir: string | undefined, entries: string[]): Promise<OwnerFile[]> {
  if (!runDir) return [];
  const records: OwnerFile[] = [];
  for (const entry of entries.filter((e) => e.endsWith('.owner.json'))) {
    const record = parseOwnerFile(await readFile(resolve(runDir, entry), 'utf8').catch(() => ''));
    // The file must be the one its record names: `<vm>.owner.json`, with no path in `vm`.
    if (record && `${record.vm}.owner.json` === entry && basename(record.vm) === record.vm && !record.vm.startsWith('.')) records.push(record);
  }
  return records;
}

/**
 * The run directory's files of one VM: `<vm>.<suffix>` (also in a subdirectory: 'vnc/<vm>.sock'),
 * unless a longer known VM name claims them (the files of 'demo-a.b' are not those of 'demo-a').
 * Its owner file goes last.
 */
export function filesOf(vm: string, entries: string[], knownVms: string[]): string[] {
  const longer = knownVms.filter((n) => n.length > vm.length && n.startsWith(`${vm}.`));
  const base = (e: string) => e.slice(e.lastIndexOf('/') + 1);
  const mine = entries.filter((e) => base(e).startsWith(`${vm}.`) && !longer.some((n) => base(e).startsWith(`${n}.`)));
  const owner = `${vm}.owner.json`;
  return [...mine.filter((e) => e !== owner), ...mine.filter((e) => e === owner)];
}

/** Is `path` a file directly in `dir` (no '..', no subdirectory, not the directory itself)? */
export function isIn(dir: string, path: string): boolean {
  const p = resolve(path);
  return dirname(p) === resolve(dir) && basename(p) !== '' && p !== resolve(dir);
}

/** In `dir` or in a directory directly in it, never `dir` itself nor above it. */
function isUnder(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep).length <= 2;
}

/** Deletes each file; an error is logged and the next file is tried. */
async function removeFiles(runDir: string, files: string[], log: Logger): Promise<void> {
  for (const file of files) {
    const path = resolve(runDir, file);
    if (!isUnder(runDir, path)) continue;
    try {
      // A VM's network services keep their sockets in a directory of their own, vnc/<vm>.services/.
      await rm(path, { recursive: path.endsWith('.services'), force: true });
    } catch (e) {
      log.warn('stale sweep: could not delete a file; going on', { path, error: (e as Error).message });
    }
  }
}
