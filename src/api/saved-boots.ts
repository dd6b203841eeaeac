/**
 * Saved boots: the running state of a VM right after its first cold boot (memory and devices
 * in a libvirt save image, the disk frozen at that moment), from which later VMs of the same
 * shape start in seconds. Each copy gets its own overlay on the frozen disk, and its own name,
 * UUID and sockets written into the save image's XML just before `virsh restore`.
 *
 * One directory per shape under $XDG_CACHE_HOME/demotool/warm/KEY: state.sav, saved.json, the
 * disk it names, and serial.log (what the guest printed on its serial console before the save,
 * with which each copy's serial log begins, as a cold boot's would). saved.json's mtime is the
 * last restore (`images prune` goes by it). Each save has a disk file of its own name
 * (disk-ID.qcow2): a saved boot made again never replaces a disk that running copies' overlays
 * stand on. KEY hashes the domain XML without what differs between copies (name, UUID, owner,
 * CPU pinning) together with the QEMU and libvirt versions, so a new image version, other
 * resources, video or network, or an upgraded QEMU all get a boot of their own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmError, createOverlay, readSaveImage, rewriteSaveImageXml, type Domain, type SaveImageHeader } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { cleanupsStarted } from '../process-exit.js';
import { stopIfInterrupted } from './interruption.js';
import { withDirectoryLock } from './saved-boot-lock.js';
import { hostVersions } from './host-versions.js';

/**
 * Bump when the way copies are made changes: older saved boots are then left unused.
 * 3: the closed network's DHCP names the gateway as DNS server (older boots have no resolver).
 * 4: the serial log before the save is kept, and begins each copy's log.
 */
const FORMAT = 4;

/** The parts of a domain XML that differ between copies of one shape, blanked. */
export function shapeOf(xml: string, name: string, uuid: string): string {
  return xml
    .split(name)
    .join('{NAME}')
    .split(uuid)
    .join('{UUID}')
    .replace(/<metadata>[\s\S]*?<\/metadata>/, '')
    .replace(/<cputune>[\s\S]*?<\/cputune>/, '');
}

export interface SavedBoot {
  key: string;
  dir: string;
  state: string;
  meta: string;
  /** The serial log up to the save. */
  transcript: string;
}

interface SavedBootMeta {
  /** The frozen disk's file name in `dir`. */
  disk: string;
  savedAt: string;
  format: number;
}

/**
 * The saved boot for a domain XML (whether it exists yet or not), under `root`: the image
 * cache's saved-boots dir (ImageCache.savedBootsDir), which counts their disks as users of its images.
 */
export async function savedBootFor(root: string, xml: string, name: string, uuid: string): Promise<SavedBoot> {
  const versions = await hostVersions();
  const key = createHash('sha256')
    .update(`${FORMAT}\n${versions}\n${shapeOf(xml, name, uuid)}`)
    .digest('hex')
    .slice(0, 20);
  const dir = join(root, key);
  return { key, dir, state: join(dir, 'state.sav'), meta: join(dir, 'saved.json'), transcript: join(dir, 'serial.log') };
}

/**
 * The frozen disk and the save file's header of a saved boot that is there and whole, else
 * undefined. A damaged one is discarded (and made again by the next cold boot).
 */
export async function usable(saved: SavedBoot, log: Logger): Promise<{ disk: string; header: SaveImageHeader } | undefined> {
  const text = await readFile(saved.meta, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const meta = JSON.parse(text) as Partial<SavedBootMeta>;
    if (typeof meta.disk !== 'string' || !/^disk-[a-z0-9]+\.qcow2$/.test(meta.disk)) throw new Error(`saved.json names no disk`);
    const disk = join(saved.dir, meta.disk);
    if (!(await stat(disk)).isFile()) throw new Error(`${disk} is not a file`);
    return { disk, header: await readSaveImage(saved.state) };
  } catch (e) {
    log.warn('a saved boot is damaged: booting cold, and saving it again', { dir: saved.dir, error: (e as Error).message });
    await discard(saved);
    return undefined;
  }
}

/**
 * Makes it unusable for new copies: the state and its record go. Its disks stay, as copies may
 * stand on them; the image cache removes the directory with the image build it was made from.
 */
export async function discard(saved: SavedBoot): Promise<void> {
  await rm(saved.meta, { force: true });
  await rm(saved.state, { force: true });
}

/** One process at a time per saved boot: its XML is rewritten in place for each copy. */
export async function withSavedBootLock<T>(saved: SavedBoot, log: Logger, body: () => Promise<T>): Promise<T> {
  await mkdir(saved.dir, { recursive: true, mode: 0o700 });
  return withDirectoryLock(saved.dir, log, body);
}

/**
 * Makes the saved XML this copy's: its name, UUID, owner record and CPU pinning from the copy's
 * own definition, everything else (devices, addresses: the guest's view) exactly as saved.
 */
export function copyXml(saved: string, savedName: string, copy: { xml: string; name: string; uuid: string }): string {
  const part = (xml: string, tag: string) => new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`).exec(xml)?.[0] ?? '';
  let xml = saved.split(savedName).join(copy.name);
  xml = xml.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${copy.uuid}</uuid>`);
  xml = xml.replace(/<metadata>[\s\S]*?<\/metadata>/, part(copy.xml, 'metadata'));
  xml = xml.replace(/\s*<cputune>[\s\S]*?<\/cputune>/, '');
  const pins = part(copy.xml, 'cputune');
  return pins ? xml.replace(/(<vcpu[^>]*>[^<]*<\/vcpu>)/, `$1\n  ${pins}`) : xml;
}

/**
 * Restores a copy of the saved boot as `domain`, under the saved boot's lock: its overlay is put
 * on the frozen disk by `prepare` (which also defines the domain), then the file's XML is made
 * the copy's and `virsh restore` runs. False, with nothing done, when there is no usable one.
 */
export async function restoreCopy(
  saved: SavedBoot,
  domain: Domain,
  copy: { xml: string; uuid: string; serialLog: string; prepare: (disk: string) => Promise<void> },
  timeoutMs: number,
  log: Logger,
): Promise<boolean> {
  return withSavedBootLock(saved, log, async () => {
    const found = await usable(saved, log);
    if (!found) return false;
    await copy.prepare(found.disk);
    // libvirt appends to the log: the copy's begins with the boot's output, so a wait for the ready marker finds it, as after a cold boot.
    await copyFile(saved.transcript, copy.serialLog).catch(ignoreMissing);
    // The file holds the XML of the copy made last (or of the saved VM): its name is what to replace.
    const { xml } = found.header;
    const savedName = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    if (!savedName) throw new VmError('ESAVEIMAGE', `${saved.state} holds a domain XML without a name`);
    await rewriteSaveImageXml(saved.state, copyXml(xml, savedName, { xml: copy.xml, name: domain.name, uuid: copy.uuid }), found.header);
    stopIfInterrupted();
    await domain.restore(saved.state, timeoutMs);
    // Its last use, for `demotool images prune`.
    const now = new Date();
    await utimes(saved.meta, now, now).catch(() => undefined);
    return true;
  });
}

/**
 * Saves a VM that has just booted as the shape's saved boot, and puts it back: `virsh save`
 * stops it, its overlay becomes the frozen disk, a new overlay on it takes its place, and the
 * VM is restored from the state it was saved in. The guest never sees the gap.
 */
export async function saveBoot(saved: SavedBoot, vm: { domain: Domain; overlay: string; serialLog: string }, timeoutMs: number, log: Logger): Promise<boolean> {
  const { domain, overlay } = vm;
  return withSavedBootLock(saved, log, async () => {
    if (await usable(saved, log)) return false;
    const state = `${saved.state}.part`;
    const diskName = `disk-${randomBytes(4).toString('hex')}.qcow2`;
    const disk = join(saved.dir, diskName);
    await domain.save(state, timeoutMs);
    try {
      await moveFile(overlay, disk);
      await createOverlay(disk, overlay);
      stopIfInterrupted();
      await domain.restore(state, timeoutMs);
    } catch (e) {
      // Put the VM back as it was: the state and the disk it was saved with (unless Ctrl-C's cleanup removed it).
      await moveFile(disk, overlay).catch(() => undefined);
      if (!cleanupsStarted()) await domain.restore(state, timeoutMs).catch(() => undefined);
      await rm(state, { force: true });
      throw e;
    }
    await rename(state, saved.state);
    // Saved while QEMU was stopped: nothing the copies' guests print is in it.
    await copyLog(vm.serialLog, saved.transcript);
    const meta: SavedBootMeta = { disk: diskName, savedAt: new Date().toISOString(), format: FORMAT };
    await writeFile(saved.meta, JSON.stringify(meta, null, 2));
    return true;
  });
}

/** The serial log as it is now, or none (a guest without a serial log). */
async function copyLog(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  await copyFile(from, to).catch(ignoreMissing);
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

/** rename(), or a copy and a removal when `to` is on another filesystem (a run directory on a tmpfs, an image cache on another disk). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // The overlay of a VM that has just booted: a few MiB at most.
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}
