/**
 * An image's builds in the cache directory: each build's disk (or ISO), kernel and initrd share
 * a build id in their names. Old builds are deleted once nothing stands on them: no VM overlay
 * in the run directories, no saved boot, no process holding the disk open. Call every method
 * with the image's build lock held.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { removeTree } from './builders/rootfs.js';
import { ImageInUseError } from './errors.js';
import { imageFiles, isBuildLeftover, versionOf } from './image-names.js';
import { filesInUse, isInUse } from './in-use.js';
import { removeSavedBootsOn } from './saved-boot-files.js';
import { fromSidecar } from './sidecar.js';
import { sidecarOf } from './image-check.js';

export interface BuildPlaces {
  dir: string;
  /** Where VM overlays live: a build one stands on is kept. */
  runDirs: string[];
  /** Saved boots: made from a build, they go with it unless an overlay stands on them. */
  savedBootsDir: string;
  log: Logger;
}

export class ImageBuilds {
  constructor(private readonly places: BuildPlaces) {}

  /** The builds of `name`: build id ('' = unversioned) → its disk/kernel/initrd file names. */
  async of(name: string): Promise<Map<string, string[]>> {
    const builds = new Map<string, string[]>();
    for (const file of await fs.readdir(this.places.dir).catch(() => [] as string[])) {
      const id = versionOf(name, file);
      if (id !== undefined) builds.set(id, [...(builds.get(id) ?? []), file]);
    }
    return builds;
  }

  /**
   * Deletes the builds of `name` that are not current and whose disk no overlay stands on (nor
   * a process holds open). With `current` undefined, the sidecar says which build is current.
   */
  async pruneOld(name: string, current: Set<string> | undefined = undefined): Promise<void> {
    current ??= await this.currentFiles(name);
    if (current === undefined) return; // nothing says which build is current: leave them all
    const { dir, log } = this.places;
    const stale = [...(await this.of(name)).entries()].filter(([, files]) => !files.some((file) => current.has(file)));
    if (stale.length === 0) return;
    await this.dropSavedBootsOn(stale.flatMap(([, files]) => disksOf(dir, files)));
    const used = await this.filesInUse();
    for (const [id, files] of stale) {
      const base = files.find(isBase);
      if (base && (await isInUse(used, path.join(dir, base)))) {
        log.info('keeping an old build: VM overlays still use it', { image: name, build: id || '(unversioned)', disk: base });
        continue;
      }
      for (const file of files) await fs.rm(path.join(dir, file), { force: true });
      log.info('removed an old build', { image: name, build: id || '(unversioned)' });
    }
  }

  /**
   * Deletes every build of `name` and its sidecar, and the saved boots made from them; refused,
   * deleting nothing, while VM overlays stand on any of its builds.
   * @throws {@link ImageInUseError} naming the files in use.
   */
  async removeAll(name: string): Promise<void> {
    const { dir } = this.places;
    await this.dropSavedBootsOn(disksOf(dir, [...(await this.of(name)).values()].flat()));
    const used = await this.filesInUse();
    const busy: string[] = [];
    for (const files of (await this.of(name)).values())
      for (const f of files.filter(isBase)) if (await isInUse(used, path.join(dir, f))) busy.push(path.join(dir, f));
    if (busy.length) throw new ImageInUseError(name, busy);
    await this.deleteAll(name);
    await this.removeLeftovers(name);
  }

  /** Sidecar first (without it a half-deleted image never looks valid), then every build no overlay uses. */
  async deleteAll(name: string): Promise<void> {
    await fs.rm(imageFiles(this.places.dir, name).sidecar, { force: true });
    await this.pruneOld(name, new Set());
  }

  /** Temp files and build directories of builds of this image that died (the lock is held, so nobody writes them). */
  async removeLeftovers(name: string): Promise<void> {
    const { dir, log } = this.places;
    const entries = await fs.readdir(dir).catch(() => [] as string[]);
    for (const e of entries.filter((file) => isBuildLeftover(name, file))) {
      log.info('removing leftover temp file', { file: e });
      await removeTree(path.join(dir, e), log);
    }
  }

  /** The current build's file names, from the sidecar; undefined without one. */
  private async currentFiles(name: string): Promise<Set<string> | undefined> {
    const sidecar = await sidecarOf(this.places.dir, name);
    if (!sidecar) return undefined;
    const image = fromSidecar(sidecar, imageFiles(this.places.dir, name).qcow2);
    return new Set([image.path, image.boot?.kernel, image.boot?.initrd].filter((p): p is string => !!p).map((p) => path.basename(p)));
  }

  /** Deletes the saved boots made from these disks, except those a VM's overlay stands on. */
  private async dropSavedBootsOn(disks: string[]): Promise<void> {
    for (const key of await removeSavedBootsOn(this.places.savedBootsDir, disks, this.places.runDirs))
      this.places.log.info('removed a saved boot of an old build', { savedBoot: key });
  }

  private filesInUse() {
    return filesInUse([...this.places.runDirs, this.places.savedBootsDir]);
  }
}

/** A build's file that VMs use directly: a base disk (overlays stand on it) or an ISO (a CD-ROM). */
const isBase = (file: string) => file.endsWith('.qcow2') || file.endsWith('.iso');

const disksOf = (dir: string, files: string[]) => files.filter((f) => f.endsWith('.qcow2')).map((f) => path.join(dir, f));
