/**
 * The kernel the tiny image boots, and the modules it loads. The host's own, when /boot has
 * one; otherwise Debian's (or Ubuntu's) kernel package fetched with `apt-get download` and
 * unpacked into the image cache: nothing is installed on the host.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { ImageBuildError } from '../errors.js';
import { defaultImageDir } from '../image-names.js';
import type { BuildContext } from './types.js';

export interface GuestKernel {
  /** The kernel image (vmlinuz-VERSION). */
  kernel: string;
  /** Where VERSION's modules are: {root}/lib/modules/VERSION/kernel/... */
  modulesDir: string;
  source: 'host' | 'cache';
}

/** Newest vmlinuz-* in `bootDir` (vmlinuz-6.1.0-56-amd64 > vmlinuz-6.1.0-9-amd64). */
export async function newestKernel(bootDir = '/boot'): Promise<string | undefined> {
  const names = (await fs.readdir(bootDir).catch(() => [] as string[])).filter((n) => /^vmlinuz-\d/.test(n));
  names.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  return names[0] && path.join(bootDir, names[0]);
}

/** A vmlinuz-VERSION file's VERSION: its modules' directory name. */
export function kernelVersion(kernel: string): string {
  return path.basename(kernel).replace(/^vmlinuz-/, '');
}

/** The host's newest kernel, unless DEMOTOOL_GUEST_KERNEL=download asks for the distribution's package instead. */
export async function hostKernel(bootDir?: string): Promise<string | undefined> {
  return process.env.DEMOTOOL_GUEST_KERNEL === 'download' ? undefined : newestKernel(bootDir);
}

/**
 * What to unpack from a kernel package: the kernel and these modules (paths under
 * `lib/modules/VERSION/kernel/`; those the package lacks are left out), or the kernel and all its
 * modules with their index (for libguestfs's appliance, which picks its own).
 */
export type KernelUnpack = { modules: string[] } | 'everything';

/**
 * The host's kernel, unless DEMOTOOL_GUEST_KERNEL=download or /boot has none; then the
 * distribution's, unpacked into the cache (fetched when missing). Each unpack has a directory
 * of its own, named by what it holds, so a longer module list unpacks the package again.
 */
export async function guestKernel(ctx: BuildContext, unpack: KernelUnpack, options: { bootDir?: string; cacheDir?: string } = {}): Promise<GuestKernel> {
  const host = await hostKernel(options.bootDir);
  if (host) return { kernel: host, modulesDir: `/lib/modules/${kernelVersion(host)}`, source: 'host' };
  const root = path.join(options.cacheDir ?? ctx.dir, 'kernels');
  const key = unpack === 'everything' ? 'all' : createHash('sha256').update(unpack.modules.join('\n')).digest('hex').slice(0, 8);
  const cached = await cachedKernel(root, key);
  if (cached) return cached;
  const unpacked = (await copyFromDefaultCache(ctx, root, key)) ?? (await downloadKernel(ctx, root, key, unpack));
  if (unpack !== 'everything') await removeOlderUnpacks(root, unpacked);
  const fetched = await cachedKernel(root, key);
  if (!fetched) throw buildError(ctx, 'the kernel package held no /boot/vmlinuz-*');
  return fetched;
}

/** The newest unpack in `root` whose directory ends in `-key`; its mtime becomes its last use (`images prune` reads it). */
async function cachedKernel(root: string, key: string): Promise<GuestKernel | undefined> {
  for (const dir of (await fs.readdir(root).catch(() => [] as string[]))
    .filter((d) => d.endsWith(`-${key}`))
    .sort()
    .reverse()) {
    const kernel = await newestKernel(path.join(root, dir, 'boot'));
    if (!kernel) continue;
    const now = new Date();
    await fs.utimes(path.join(root, dir), now, now).catch(() => undefined);
    return { kernel, modulesDir: path.join(root, dir, 'lib', 'modules', kernelVersion(kernel)), source: 'cache' };
  }
  return undefined;
}

/**
 * Removes the kernel unpacks under `root` (an image cache's `kernels`) not used for
 * `unusedForMs`: the next build that needs one copies or downloads it again. Unpacks in
 * progress stay. @returns the names of the unpacks removed.
 */
export async function pruneKernelUnpacks(root: string, options: { unusedForMs: number; now: number }): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of await fs.readdir(root).catch(() => [] as string[])) {
    if (inProgress(dir)) continue;
    const st = await fs.stat(path.join(root, dir)).catch(() => undefined);
    if (!st?.isDirectory() || options.now - st.mtimeMs < options.unusedForMs) continue;
    await fs.rm(path.join(root, dir), { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/**
 * Another cache (a test's, a project's own) takes the same unpack from the default cache when that
 * has it: a copy, in a moment, instead of a download and two passes over the package (seconds).
 * @returns the copy's directory name in `root`, or undefined when there was nothing to copy.
 */
async function copyFromDefaultCache(ctx: BuildContext, root: string, key: string): Promise<string | undefined> {
  const shared = path.join(defaultImageDir(), 'kernels');
  if (path.resolve(shared) === path.resolve(root)) return undefined;
  const found = await cachedKernel(shared, key);
  if (!found) return undefined;
  const name = path.relative(shared, found.kernel).split(path.sep)[0]!;
  const target = path.join(root, `${name}.tmp`);
  try {
    await fs.rm(target, { recursive: true, force: true });
    await fs.cp(path.join(shared, name), target, { recursive: true });
    await fs.rename(target, path.join(root, name));
  } catch (e) {
    // Unreadable or gone meanwhile: the package is unpacked here as if it never was there.
    ctx.log.debug('could not copy the kernel unpack from the default cache', { from: shared, error: (e as Error).message });
    await fs.rm(target, { recursive: true, force: true });
    return undefined;
  }
  ctx.log.info('guest kernel copied from the default image cache', { dir: path.join(root, name) });
  return name;
}

function buildError(ctx: BuildContext, reason: string, cause?: unknown): ImageBuildError {
  return new ImageBuildError({
    image: ctx.name,
    step: 'kernel',
    reason,
    cause,
    hint: 'install a kernel package (Debian: linux-image-amd64, Ubuntu: linux-image-generic), or check that apt-get can reach its mirror',
  });
}

/** The versioned package behind the distribution's kernel metapackage (linux-image-amd64 → linux-image-6.1.0-56-amd64). */
async function kernelPackage(ctx: BuildContext): Promise<string> {
  const release = await fs.readFile('/etc/os-release', 'utf8').catch(() => '');
  const meta = /^(ID|ID_LIKE)=.*ubuntu/m.test(release) ? 'linux-image-generic' : 'linux-image-amd64';
  const r = await execa('apt-cache', ['depends', meta], { reject: false, timeout: 60_000 });
  const pkg = r.stdout.match(/Depends:\s*(linux-image-[0-9][^\s<>]*)/)?.[1];
  if (r.failed || !pkg) throw buildError(ctx, `apt-cache found no kernel package behind ${meta}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
  return pkg;
}

/** @returns the unpack's directory name in `root`. */
async function downloadKernel(ctx: BuildContext, root: string, key: string, unpack: KernelUnpack): Promise<string> {
  ctx.progress('kernel download', 5);
  const pkg = await kernelPackage(ctx);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-kernel-'));
  try {
    // root's apt drops to the _apt user, which can't write a private temp dir
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const dl = await execa('apt-get', ['download', ...sandbox, pkg], { cwd: work, reject: false, timeout: 600_000 });
    if (dl.failed) throw buildError(ctx, `apt-get download ${pkg} failed: ${dl.stderr.trim().split('\n').pop() ?? ''}`, dl);
    const deb = (await fs.readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw buildError(ctx, `apt-get download ${pkg} left no .deb`);
    const target = path.join(root, `${pkg}-${key}.tmp`);
    await fs.rm(target, { recursive: true, force: true });
    await fs.mkdir(target, { recursive: true });
    await unpackDeb(ctx, path.join(work, deb), target, unpack);
    await fs.rename(target, path.join(root, `${pkg}-${key}`));
    ctx.log.info('guest kernel unpacked into the cache (nothing installed on the host)', { package: pkg, dir: path.join(root, `${pkg}-${key}`) });
    return `${pkg}-${key}`;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * After a module unpack: those of an older module list, or of the layout before unpacks were
 * named by their content, go: tiny's build copies the kernel and modules it takes, so no image or VM uses them. The full
 * unpack (libguestfs's) and unpacks in progress stay.
 */
async function removeOlderUnpacks(root: string, current: string): Promise<void> {
  for (const dir of await fs.readdir(root).catch(() => [] as string[]))
    if (dir !== current && !dir.endsWith('-all') && !inProgress(dir)) await fs.rm(path.join(root, dir), { recursive: true, force: true });
}

/** An unpack being made (its directory, or the list of members tar reads): never removed. */
const inProgress = (name: string) => name.endsWith('.tmp') || name.endsWith('.members');

/** The package's kernel and the modules asked for (those it has), or everything with depmod's index. */
async function unpackDeb(ctx: BuildContext, deb: string, target: string, unpack: KernelUnpack): Promise<void> {
  // The archive comes on tar's stdin; "$1" is the directory to unpack into, "$2" a list of members.
  const tar = (args: string, list = '') =>
    execa('sh', ['-c', `dpkg-deb --fsys-tarfile "$0" | tar ${args}`, deb, target, list], { reject: false, timeout: 300_000, maxBuffer: 64 * 2 ** 20 });
  let r;
  if (unpack === 'everything') r = await tar('-x -C "$1" ./boot ./lib/modules');
  else {
    const listed = await tar('-t');
    if (listed.failed) throw buildError(ctx, `listing ${path.basename(deb)} failed: ${listed.stderr.trim().split('\n').pop() ?? ''}`, listed);
    const wanted = new Set(unpack.modules);
    const members = listed.stdout.split('\n').filter((m) => /^\.\/boot\/vmlinuz-/.test(m) || wanted.has(m.replace(/^\.\/lib\/modules\/[^/]+\/kernel\//, '')));
    const list = `${target}.members`;
    await fs.writeFile(list, `${members.join('\n')}\n`);
    r = await tar('-x -C "$1" -T "$2"', list);
    await fs.rm(list, { force: true });
  }
  if (r.failed) throw buildError(ctx, `unpacking ${path.basename(deb)} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`, r);
  if (unpack !== 'everything') return;
  const kernel = await newestKernel(path.join(target, 'boot'));
  if (!kernel) return;
  const depmod = await execa('depmod', ['-b', target, kernelVersion(kernel)], { reject: false, timeout: 120_000 });
  if (depmod.failed) throw buildError(ctx, `depmod failed on the unpacked modules: ${depmod.stderr.trim().split('\n').pop() ?? ''}`, depmod);
}
