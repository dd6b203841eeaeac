/**
 * The kernel the tiny image boots, and the modules it loads. The host's own, when /boot has
 * one; otherwise Debian's (or Ubuntu's) kernel package fetched with `apt-get download` and
 * unpacked into the image cache: nothing is installed on the host.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ImageBuildError } from '../errors.js';
import type { BuildContext } from './types.js';

export interface GuestKernel {
  /** The kernel image (vmlinuz-VERSION). */
  kernel: string;
  /** Where VERSION's modules are: {root}/lib/modules/VERSION/kernel/... */
  modulesDir: string;
  source: 'host' | 'cache';
}

/** Only what tiny needs from a kernel package: the kernel, virtio and pvpanic modules. */
const MEMBERS = [
  './boot/vmlinuz-*',
  './lib/modules/*/kernel/drivers/virtio/*',
  './lib/modules/*/kernel/drivers/block/virtio_blk.ko*',
  './lib/modules/*/kernel/drivers/misc/pvpanic/*',
];

/** Newest vmlinuz-* in `bootDir` (vmlinuz-6.1.0-56-amd64 > vmlinuz-6.1.0-9-amd64). */
export async function newestKernel(bootDir = '/boot'): Promise<string | undefined> {
  const names = (await fs.readdir(bootDir).catch(() => [] as string[])).filter((n) => /^vmlinuz-\d/.test(n));
  names.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  return names[0] && path.join(bootDir, names[0]);
}

function version(kernel: string): string {
  return path.basename(kernel).replace(/^vmlinuz-/, '');
}

/** The host's kernel, unless DEMOTOOL_GUEST_KERNEL=download; then one unpacked in the cache, fetched when missing. */
export async function guestKernel(ctx: BuildContext, options: { bootDir?: string; cacheDir?: string } = {}): Promise<GuestKernel> {
  const host = process.env.DEMOTOOL_GUEST_KERNEL === 'download' ? undefined : await newestKernel(options.bootDir);
  if (host) return { kernel: host, modulesDir: `/lib/modules/${version(host)}`, source: 'host' };
  const root = path.join(options.cacheDir ?? ctx.dir, 'kernels');
  const cached = await cachedKernel(root);
  if (cached) return cached;
  await downloadKernel(ctx, root);
  const fetched = await cachedKernel(root);
  if (!fetched) throw buildError(ctx, 'the kernel package held no /boot/vmlinuz-*');
  return fetched;
}

async function cachedKernel(root: string): Promise<GuestKernel | undefined> {
  for (const dir of (await fs.readdir(root).catch(() => [] as string[]))
    .filter((d) => !d.endsWith('.tmp'))
    .sort()
    .reverse()) {
    const kernel = await newestKernel(path.join(root, dir, 'boot'));
    if (kernel) return { kernel, modulesDir: path.join(root, dir, 'lib', 'modules', version(kernel)), source: 'cache' };
  }
  return undefined;
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

async function downloadKernel(ctx: BuildContext, root: string): Promise<void> {
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
    const target = path.join(root, `${pkg}.tmp`);
    await fs.rm(target, { recursive: true, force: true });
    await fs.mkdir(target, { recursive: true });
    const unpack = await execa(
      'sh',
      ['-c', `dpkg-deb --fsys-tarfile "$0" | tar -x -C "$1" --wildcards ${MEMBERS.map((m) => `'${m}'`).join(' ')}`, path.join(work, deb), target],
      { reject: false, timeout: 300_000 },
    );
    if (unpack.failed) throw buildError(ctx, `unpacking ${deb} failed: ${unpack.stderr.trim().split('\n').pop() ?? ''}`, unpack);
    await fs.rename(target, path.join(root, pkg));
    ctx.log.info('guest kernel unpacked into the cache (nothing installed on the host)', { package: pkg, dir: path.join(root, pkg) });
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
