/**
 * Local disk files and ISO images brought into the cache: converted (or copied) once per
 * content, under a name made of their sha256, so the same file boots the same image wherever it lies.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { ContentHashes } from './content-hash.js';
import { ImageValidationError } from './errors.js';
import type { ImageBuilds } from './image-builds.js';
import { checkDisk } from './image-check.js';
import { findImage, loadImage } from './image-entry.js';
import { imageFiles, newBuildId, versionFiles } from './image-names.js';
import { checkIso, copyIsoInto, isoImageName, looksLikeIso } from './iso.js';
import { checkLocalFile, contentKey, convertToQcow2, localImageName, type LocalSource } from './local-file.js';
import { acquireBuildLock } from './lock.js';
import { toSidecar, writeSidecar } from './sidecar.js';
import type { BaseImage } from './types.js';

/** Where imports go, and what they use of the cache. */
export interface ImportPlace {
  dir: string;
  log: Logger;
  builds: ImageBuilds;
  hashes: ContentHashes;
}

export class LocalImports {
  constructor(private readonly at: ImportPlace) {}

  /**
   * A local disk file (qcow2, raw, vmdk or vdi) converted into the cache as qcow2, once per
   * content: the image is named `file-` + 16 hex digits of its sha256 (with a backing chain, of
   * every layer's). The file is only read.
   * @throws {@link UsageError} for a missing file or a directory; {@link ImageValidationError}
   * for an unsupported format or a missing backing file.
   */
  async importFile(file: string): Promise<BaseImage> {
    const abs = path.resolve(file);
    if (await looksLikeIso(abs)) return this.importIso(abs);
    const { format, backing } = await checkLocalFile(abs);
    const sha256 = await this.at.hashes.of(abs);
    const name = localImageName(await contentKey(sha256, backing, (f) => this.at.hashes.of(f)));
    return this.importOnce(name, async () => {
      const { size } = await fs.stat(abs);
      return this.convert(name, { path: abs, sha256, format, sizeBytes: size });
    });
  }

  /**
   * An ISO image (an ISO 9660 file, found by its content) copied into the cache once per content,
   * read-only, as `iso-` + 16 hex digits of its sha256; VMs boot it as a CD-ROM. The file is only read.
   */
  private async importIso(file: string): Promise<BaseImage> {
    const sizeBytes = await checkIso(file);
    const sha256 = await this.at.hashes.of(file);
    const name = isoImageName(sha256);
    return this.importOnce(name, async () => {
      const files = imageFiles(this.at.dir, name);
      this.at.log.info('copying an ISO image into the cache', { image: name, file });
      await copyIsoInto(file, sha256, `${files.iso}.tmp-${process.pid}-${Math.floor(Math.random() * 0xffff).toString(16)}`, files.iso);
      const image: BaseImage = { name, path: files.iso, cdrom: files.iso, guestAgent: false };
      await writeSidecar(files.sidecar, { ...toSidecar(image, 'iso'), source: { path: file, sha256, format: 'iso', sizeBytes } });
      return image;
    });
  }

  /**
   * The imported image `name` when the cache holds a sound one; else made by `make`, under the
   * image's build lock (another process may have made it meanwhile) and over a clean slate.
   */
  private async importOnce(name: string, make: () => Promise<BaseImage>): Promise<BaseImage> {
    await fs.mkdir(this.at.dir, { recursive: true });
    if ((await findImage(this.at.dir, this.at.builds, name)).validation.ok) return loadImage(this.at.dir, name);
    const release = await acquireBuildLock(this.at.dir, imageFiles(this.at.dir, name).lock, name, this.at.log);
    try {
      const found = await findImage(this.at.dir, this.at.builds, name);
      if (found.validation.ok) return await loadImage(this.at.dir, name);
      if (found.exists) await this.at.builds.deleteAll(name);
      await this.at.builds.removeLeftovers(name);
      return await make();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Converts a local file into a new build of `name` and makes it current (call with the lock held). */
  private async convert(name: string, source: LocalSource): Promise<BaseImage> {
    const out = versionFiles(this.at.dir, name, newBuildId()).qcow2;
    // A temp name isBuildLeftover knows, so a conversion that dies is cleaned up next time.
    const tmp = `${imageFiles(this.at.dir, name).qcow2}.tmp-${process.pid}-${Math.floor(Math.random() * 0xffff).toString(16)}`;
    this.at.log.info('converting a local disk file', { image: name, file: source.path, format: source.format });
    try {
      await convertToQcow2(source.path, source.format, source.sizeBytes, tmp);
      await fs.rename(tmp, out);
      const image: BaseImage = { name, path: out, guestAgent: false };
      const v = await checkDisk(out);
      if (!v.ok) throw new ImageValidationError({ image: name, step: 'validate converted image', reason: v.reason });
      await writeSidecar(imageFiles(this.at.dir, name).sidecar, { ...toSidecar(image, 'file'), source });
      return image;
    } catch (e) {
      await Promise.all([tmp, out].map((p) => fs.rm(p, { force: true })));
      throw e;
    }
  }
}
