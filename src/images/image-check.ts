/**
 * Is a cached image sound? Its sidecar (which names the current build and its boot files), its
 * disk (qcow2 without a backing file, passing `qemu-img check`) or ISO, and whether the
 * built-in builder's recipe has moved on since it was built. Reads only.
 */
import fs from 'node:fs/promises';
import { qemuImgCheck, qemuImgInfo } from '../qemu-img.js';
import { recipeFor } from './builders/index.js';
import { isDomainSource, type DomainSource } from './domain-image.js';
import { imageFiles, isBuiltIn, versionOf } from './image-names.js';
import { checkIso } from './iso.js';
import { fromSidecar, readSidecar, type Sidecar } from './sidecar.js';
import type { BaseImage } from './types.js';

export type Validation = { ok: true } | { ok: false; reason: string };

/** A validation result; `outdated` = sound image made by an older recipe of a built-in builder. */
export type Checked = Validation & { outdated?: boolean };

/** The image's sidecar in `dir`, or undefined when it has none or it can't be read. */
export async function sidecarOf(dir: string, name: string): Promise<Sidecar | undefined> {
  return readSidecar(imageFiles(dir, name).sidecar).catch(() => undefined);
}

/** The domain an entry stands for, if `name` is a domain's entry. */
export async function domainEntry(dir: string, name: string): Promise<DomainSource | undefined> {
  const source = (await sidecarOf(dir, name))?.source;
  return isDomainSource(source) ? source : undefined;
}

/** The current disk: the one the sidecar names, else `{name}.qcow2` (old sidecars, images placed by hand). */
export async function currentDisk(dir: string, name: string): Promise<string> {
  const f = imageFiles(dir, name);
  const sidecar = await sidecarOf(dir, name);
  return sidecar ? fromSidecar(sidecar, f.qcow2).path : f.qcow2;
}

/** Full check of the cached image `name`; `structural` skips the recipe version (is the old image still usable?). */
export async function checkImage(dir: string, name: string, structural = false): Promise<Checked> {
  const domain = await domainEntry(dir, name);
  if (domain) return (await exists(domain.path)) ? { ok: true } : { ok: false, reason: `${domain.path}, the disk of domain ${domain.domain}, is missing` };
  // The sidecar first: it names the disk (a built-in image without one is broken).
  if (isBuiltIn(name) || (await exists(imageFiles(dir, name).sidecar))) {
    const sidecar = await checkSidecar(dir, name);
    if (!sidecar.ok) return sidecar;
  }
  const current = await currentDisk(dir, name);
  const disk = current.endsWith('.iso') ? await checkIso(current).then(okIso, notIso) : await checkDisk(current);
  if (!disk.ok) return disk;
  return structural ? { ok: true } : checkRecipe(dir, name);
}

/** A base disk: readable, qcow2, no backing file, passes qemu-img check. */
export async function checkDisk(file: string): Promise<Checked> {
  const bad = (reason: string): Checked => ({ ok: false, reason });
  try {
    await fs.access(file, fs.constants.R_OK);
  } catch (e) {
    return bad(`${file} is missing or unreadable (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    const info = await qemuImgInfo(file);
    if (info.format !== 'qcow2') return bad(`${file} is ${info.format}, not qcow2`);
    if (info.backingFile) return bad(`${file} has a backing file (${info.backingFile}); a base image must not`);
  } catch (e) {
    return bad(`${file}: ${(e as Error).message}`);
  }
  const checked = await qemuImgCheck(file);
  return checked.ok ? { ok: true } : bad(`${file}: ${checked.reason}`);
}

/** A new build, before it is made current: its disk, and its kernel and initrd when it has them. */
export async function checkBuild(image: BaseImage): Promise<Checked> {
  const disk = await checkDisk(image.path);
  if (!disk.ok) return disk;
  const missing = await missingBootFile(image);
  if (missing) return { ok: false, reason: `${missing} is missing or empty` };
  if (isBuiltIn(image.name) && !image.boot) return { ok: false, reason: `the ${image.name} builder gave no boot spec` };
  return { ok: true };
}

async function checkRecipe(dir: string, name: string): Promise<Checked> {
  const want = recipeFor(name);
  if (want === undefined) return { ok: true };
  const have = (await readSidecar(imageFiles(dir, name).sidecar)).recipe ?? 0;
  if (have === want) return { ok: true };
  return { ok: false, outdated: true, reason: `built by recipe ${have} of the ${name} builder; the current one is ${want}` };
}

async function checkSidecar(dir: string, name: string): Promise<Validation> {
  const f = imageFiles(dir, name);
  if (!isBuiltIn(name) && !(await exists(f.sidecar))) return { ok: true };
  try {
    const sidecar = await readSidecar(f.sidecar);
    if (sidecar.disk !== undefined && versionOf(name, sidecar.disk) === undefined)
      return { ok: false, reason: `${f.sidecar} names ${sidecar.disk}, which is not a disk of ${name}` };
    const image = fromSidecar(sidecar, f.qcow2);
    const missing = await missingBootFile(image);
    if (missing) return { ok: false, reason: `${missing} (boot file named by ${f.sidecar}) is missing or empty` };
    if (isBuiltIn(name) && !image.boot) return { ok: false, reason: `${f.sidecar} has no boot spec` };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `sidecar ${f.sidecar}: ${(e as Error).message}` };
  }
}

/** The image's kernel or initrd when it is missing or empty. */
async function missingBootFile(image: BaseImage): Promise<string | undefined> {
  for (const file of image.boot ? [image.boot.kernel, image.boot.initrd] : []) {
    const st = await fs.stat(file).catch(() => undefined);
    if (!st?.size) return file;
  }
  return undefined;
}

const okIso = (): Checked => ({ ok: true });
const notIso = (e: Error): Checked => ({ ok: false, reason: e.message });

export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
