import { ImageValidationError } from './errors.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalSource } from './local-file.js';
import type { RecipeSummary } from './recipe.js';
import { isDomainSource, type DomainSource } from './domain-image.js';
import type { BaseImage } from './types.js';

/**
 * The `{name}.json` in the cache dir: which build of the image is current, and how to boot it.
 * Disk, kernel and initrd are stored as file names relative to the cache dir so the cache can
 * be moved; fromSidecar() turns them into absolute paths.
 */
export interface Sidecar {
  format: 1;
  name: string;
  /** Which builder made it: 'tiny' | 'debian-12-desktop' | 'virt-builder'. */
  builder: string;
  builtAt: string;
  /**
   * The current build's disk, e.g. `tiny_20261126-021533-a3f9.qcow2` (see versionFiles). Absent
   * in sidecars from before versioned builds: the disk is then `{name}.qcow2`.
   */
  disk?: string;
  /** An ISO image's file in the cache dir (`iso-….iso`), booted as a CD-ROM; such an image has no `disk`. */
  iso?: string;
  /** Version of the built-in builder's recipe; a newer demotool rebuilds older images. */
  recipe?: number;
  boot?: { kernel: string; initrd: string; cmdline: string };
  readyMarker?: string;
  guestAgent: boolean;
  user?: { name: string; password: string };
  minMemoryMiB?: number;
  memoryMiB?: number;
  /** The hardware profile the guest needs, e.g. 'legacy-windows' (checked against the known profiles at boot). */
  hardware?: string;
  /** A recipe's image: its base, packages, files (guest paths) and first-boot commands. Its name holds the recipe's hash. */
  imageRecipe?: RecipeSummary;
  /**
   * A local disk file's image (builder 'file'): the file it was converted from, its sha256, format and size.
   * An existing domain's entry (builder 'domain'): the domain, and its disk, which is the image's disk itself (never copied).
   */
  source?: LocalSource | DomainSource;
}

/** What built-in images of earlier recipes, whose sidecars don't say, are given by default. */
const BUILT_IN_MEMORY_MIB: Record<string, number> = { tiny: 512, 'debian-12-desktop': 2048 };

export function toSidecar(image: BaseImage, builder: string, builtAt = new Date()): Sidecar {
  const dir = path.dirname(image.path);
  const rel = (p: string) => (path.dirname(p) === dir ? path.basename(p) : p);
  return {
    format: 1,
    name: image.name,
    builder,
    builtAt: builtAt.toISOString(),
    ...(image.cdrom ? { iso: rel(image.cdrom) } : { disk: rel(image.path) }),
    boot: image.boot && { kernel: rel(image.boot.kernel), initrd: rel(image.boot.initrd), cmdline: image.boot.cmdline },
    readyMarker: image.readyMarker,
    guestAgent: image.guestAgent,
    user: image.user,
    minMemoryMiB: image.minMemoryMiB,
    memoryMiB: image.memoryMiB,
    hardware: image.hardware,
  };
}

/** The BaseImage a sidecar describes; `qcow2Path` is `{name}.qcow2` in the cache dir (the disk of a sidecar without `disk`). */
export function fromSidecar(s: Sidecar, qcow2Path: string): BaseImage {
  const dir = path.dirname(qcow2Path);
  const abs = (p: string) => path.resolve(dir, p);
  const domainDisk = isDomainSource(s.source) ? s.source : undefined;
  const image: BaseImage = { name: s.name, path: s.disk ? abs(s.disk) : (domainDisk?.path ?? qcow2Path), guestAgent: !!s.guestAgent };
  if (domainDisk) image.format = domainDisk.format;
  if (s.iso) image.path = image.cdrom = abs(s.iso);
  if (s.boot) image.boot = { kernel: abs(s.boot.kernel), initrd: abs(s.boot.initrd), cmdline: s.boot.cmdline };
  if (s.readyMarker !== undefined) image.readyMarker = s.readyMarker;
  if (s.user) image.user = s.user;
  if (s.minMemoryMiB !== undefined) image.minMemoryMiB = s.minMemoryMiB;
  const memory = s.memoryMiB ?? BUILT_IN_MEMORY_MIB[s.builder];
  if (memory !== undefined) image.memoryMiB = memory;
  if (s.hardware !== undefined) image.hardware = s.hardware;
  return image;
}

function sidecarError(file: string, reason: string): ImageValidationError {
  return new ImageValidationError({ image: file, step: 'sidecar', reason, hint: 'remove the image (demotool images remove NAME) and build it again' });
}

export function parseSidecar(text: string, file: string): Sidecar {
  const s = JSON.parse(text) as Sidecar;
  if (s?.format !== 1 || typeof s.name !== 'string') throw sidecarError(file, 'not a demotool image sidecar (format 1)');
  if (s.boot && !(s.boot.kernel && s.boot.initrd && typeof s.boot.cmdline === 'string')) {
    throw sidecarError(file, 'boot needs kernel, initrd and cmdline');
  }
  if (s.disk !== undefined && (typeof s.disk !== 'string' || !/^[a-z0-9][a-z0-9._-]*\.qcow2$/.test(s.disk))) {
    throw sidecarError(file, 'disk must be a .qcow2 file name in the cache dir');
  }
  if (s.iso !== undefined && (typeof s.iso !== 'string' || !/^[a-z0-9][a-z0-9._-]*\.iso$/.test(s.iso) || s.disk !== undefined))
    throw sidecarError(file, 'iso must be an .iso file name in the cache dir (an ISO image has no disk)');
  if (isDomainSource(s.source) && !(path.isAbsolute(s.source.path) && ['qcow2', 'raw'].includes(s.source.format)))
    throw sidecarError(file, "a domain's source needs the absolute path of its disk and its format (qcow2 or raw)");
  if (s.hardware !== undefined && (typeof s.hardware !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(s.hardware)))
    throw sidecarError(file, "hardware must be a profile's name, such as 'legacy-windows'");
  return s;
}

export async function readSidecar(file: string): Promise<Sidecar> {
  return parseSidecar(await fs.readFile(file, 'utf8'), file);
}

/** Write via a temp file + rename so readers never see half a JSON file. */
export async function writeSidecar(file: string, s: Sidecar): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(s, null, 2) + '\n');
  await fs.rename(tmp, file);
}
