import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ImageBuildError } from '../errors.js';
import { run, type RunOptions } from '../run.js';
import { bookwormSources, hostMirrors, type DebianMirrors } from './apt-mirror.js';
import { configureScript, essentialScript, DESKTOP_CMDLINE, DESKTOP_PACKAGES, DESKTOP_READY_MARKER, DESKTOP_USER, DPKG_TRIM } from './desktop-guest.js';
import { convertToQcow2, FINISH_SCRIPT, removeTree } from './rootfs.js';
import { desktopRecipeScript } from '../recipe-desktop.js';
import type { BuildContext, Builder } from './types.js';

const MIRROR_HINT = "needs the Debian mirror from the host's apt configuration (/etc/apt/sources.list.d); run `npx demotool setup --yes`";
const BOOTSTRAP_TIMEOUT_MS = 60 * 60_000;

/** Milestones in mmdebstrap's (or debootstrap's) output → [step, percent]. */
const MILESTONES: [RegExp, string, number][] = [
  [/^I: automatically chosen|^I: chroot architecture/, 'mmdebstrap', 2],
  [/^I: running apt-get update/, 'mmdebstrap', 4],
  [/^I: downloading packages/, 'download', 8],
  [/^I: extracting archives/, 'extract', 25],
  [/^I: installing essential packages/, 'install essential', 30],
  [/^I: installing remaining packages|^I: downloading and installing/, 'install packages', 40],
  [/^I: running --customize-hook/, 'configure', 78],
  [/^I: cleaning package lists/, 'cleanup', 84],
  [/^I: success/, 'mmdebstrap done', 86],
  // debootstrap (the fallback)
  [/^I: Retrieving Packages/, 'download', 8],
  [/^I: Extracting /, 'extract', 25],
  [/^I: Unpacking required packages/, 'install essential', 30],
  [/^I: Unpacking the base system/, 'install packages', 45],
  [/^I: Configuring the base system/, 'install packages', 60],
  [/^I: Base system installed successfully/, 'debootstrap done', 76],
];

export function mmdebstrapMilestone(line: string): { step: string; percent: number } | undefined {
  const hit = MILESTONES.find(([re]) => re.test(line));
  return hit && { step: hit[1], percent: hit[2] };
}

/** Log the bootstrap tool's output as a handful of lines: each new step once, our own notes, warnings. */
function outputSummary(ctx: BuildContext, tool: string) {
  let step = '';
  return {
    onLine(line: string) {
      const m = mmdebstrapMilestone(line);
      if (line.startsWith('demotool: ')) ctx.log.info('desktop build', { note: line.slice(10) });
      else if ((m && m.step !== step) || /^[EW]: /.test(line)) ctx.log.info(tool, { line });
      if (m && m.step !== step) ctx.progress(m.step, m.percent);
      if (m) step = m.step;
    },
  };
}

interface Plan {
  tmp: string;
  root: string;
  raw: string;
  essential: string;
  configure: string;
  finish: string;
  asRoot: boolean;
  /** A recipe's packages, installed with the desktop's own. */
  packages?: string[];
  /** A recipe's script (its files and first-boot unit), run after configure. */
  recipe?: string;
}

async function hasCommand(cmd: string): Promise<boolean> {
  const r = await execa('sh', ['-c', `command -v ${cmd}`], { reject: false });
  return r.exitCode === 0;
}

/** One word for sh, whatever it holds: 'it'\''s' for it's. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** mmdebstrap runs each hook with sh -c (as root): the script paths are quoted, the root is its "$1". */
export function mmdebstrapArgs(p: Pick<Plan, 'asRoot' | 'essential' | 'configure' | 'packages' | 'recipe'>, mirrors: DebianMirrors, target: string): string[] {
  return [
    `--mode=${p.asRoot ? 'root' : 'unshare'}`,
    '--variant=minbase',
    `--format=${p.asRoot ? 'directory' : 'tar'}`,
    `--include=${[...DESKTOP_PACKAGES, ...(p.packages ?? [])].join(',')}`,
    ...DPKG_TRIM.map((o) => `--dpkgopt=${o}`),
    '--aptopt=Acquire::Languages "none"',
    `--essential-hook=sh ${shellQuote(p.essential)} "$1"`,
    `--customize-hook=sh ${shellQuote(p.configure)} "$1"`,
    ...(p.recipe ? [`--customize-hook=sh ${shellQuote(p.recipe)} "$1"`] : []),
    'bookworm',
    target,
    ...bookwormSources(mirrors),
  ];
}

/** mmdebstrap, or debootstrap when it is missing. DEMOTOOL_DESKTOP_BOOTSTRAP=debootstrap forces the fallback (to test it). */
async function chooseTool(): Promise<'mmdebstrap' | 'debootstrap'> {
  if (process.env.DEMOTOOL_DESKTOP_BOOTSTRAP === 'debootstrap') return 'debootstrap';
  return (await hasCommand('mmdebstrap')) ? 'mmdebstrap' : 'debootstrap';
}

async function bootstrap(ctx: BuildContext, p: Plan, mirrors: DebianMirrors, o: RunOptions, tool: string): Promise<void> {
  if (tool === 'mmdebstrap') {
    ctx.log.info('desktop build', { tool, mode: p.asRoot ? 'root' : 'unshare', mirror: mirrors.main });
    const target = p.asRoot ? p.root : path.join(p.tmp, 'root.tar');
    await run('mmdebstrap', mmdebstrapArgs(p, mirrors, target), { ...o, step: 'mmdebstrap', aptPackage: 'mmdebstrap' });
    return;
  }
  if (!p.asRoot) {
    throw new ImageBuildError({
      image: ctx.name,
      step: 'bootstrap',
      reason: 'mmdebstrap is not installed, and debootstrap (the fallback) needs root',
      hint: 'apt-get install mmdebstrap (or run `npx demotool setup --yes`)',
    });
  }
  ctx.log.info('desktop build', { tool: 'debootstrap', note: 'mmdebstrap missing; slower and untrimmed', mirror: mirrors.main });
  ctx.progress('debootstrap', 5);
  const include = `--include=${[...DESKTOP_PACKAGES, ...(p.packages ?? [])].join(',')}`;
  await run('debootstrap', ['--variant=minbase', include, '--components=main', 'bookworm', p.root, mirrors.main], {
    ...o,
    step: 'debootstrap',
    aptPackage: 'debootstrap',
  });
  await fs.writeFile(path.join(p.root, 'etc/apt/sources.list'), bookwormSources(mirrors).join('\n') + '\n');
  ctx.progress('configure', 78);
  await run('sh', [p.essential, p.root], { ...o, step: 'configure' });
  await run('chroot', [p.root, 'update-initramfs', '-u'], { ...o, step: 'initramfs' });
  await run('sh', [p.configure, p.root], { ...o, step: 'configure' });
  if (p.recipe) await run('sh', [p.recipe, p.root], { ...o, step: 'recipe' });
  await run('sh', ['-c', 'cd "$1" && rm -rf usr/share/man/* usr/share/info/* usr/share/doc/* usr/share/locale/*', 'trim', p.root], {
    ...o,
    step: 'trim',
  });
}

/** Runs as root, or as root of mmdebstrap's user namespace when we are not root. */
function asRootArgs(p: Plan, cmd: string, args: string[]): [string, string[]] {
  return p.asRoot ? [cmd, args] : ['mmdebstrap', ['--unshare-helper', cmd, ...args]];
}

async function finish(ctx: BuildContext, p: Plan, o: RunOptions): Promise<void> {
  ctx.progress('mkfs', 88);
  const args = [p.finish, p.root, p.raw, ctx.out.kernel, ctx.out.initrd];
  if (!p.asRoot) args.push(path.join(p.tmp, 'root.tar'));
  const [cmd, argv] = asRootArgs(p, 'sh', args);
  await run(cmd, argv, { ...o, step: 'mkfs', aptPackage: 'e2fsprogs' });
  ctx.progress('convert', 94);
  await convertToQcow2(p.raw, ctx.out.qcow2, ctx.name, ctx.log);
}

async function cleanup(ctx: BuildContext, p: Plan): Promise<void> {
  if (!p.asRoot) {
    const [cmd, argv] = asRootArgs(p, 'rm', ['-rf', p.root]);
    await execa(cmd, argv, { reject: false });
  }
  await removeTree(p.tmp, ctx.log);
}

/**
 * Debian 12 with Xorg, openbox and an xterm, logged in as `demo`, as a bare ext4 disk plus
 * the kernel and initrd for direct boot. Built with mmdebstrap from the host's Debian mirror.
 */
export const buildDesktop: Builder = async (ctx) => {
  const mirrors = await hostMirrors();
  const tmp = await fs.mkdtemp(path.join(ctx.dir, `${ctx.name}.build-`));
  await fs.chmod(tmp, 0o755); // apt's sandbox user must reach the chroot's lists dir
  const p: Plan = {
    tmp,
    root: path.join(tmp, 'root'),
    raw: path.join(tmp, 'disk.raw'),
    essential: path.join(tmp, 'essential.sh'),
    configure: path.join(tmp, 'configure.sh'),
    finish: path.join(tmp, 'finish.sh'),
    asRoot: process.getuid?.() === 0,
    ...(ctx.recipe && { packages: ctx.recipe.packages, recipe: path.join(tmp, 'recipe.sh') }),
  };
  const tool = await chooseTool();
  const o: RunOptions = { image: ctx.name, step: '', log: ctx.log, hint: MIRROR_HINT, timeoutMs: BOOTSTRAP_TIMEOUT_MS, ...outputSummary(ctx, tool) };
  try {
    await fs.writeFile(p.essential, essentialScript());
    await fs.writeFile(p.configure, configureScript());
    await fs.writeFile(p.finish, FINISH_SCRIPT);
    if (p.recipe && ctx.recipe) await fs.writeFile(p.recipe, desktopRecipeScript(ctx.recipe, DESKTOP_USER.name));
    if (p.asRoot) await fs.mkdir(p.root);
    await bootstrap(ctx, p, mirrors, o, tool);
    await finish(ctx, p, { ...o, hint: undefined });
    ctx.progress('done', 100);
  } finally {
    await cleanup(ctx, p);
  }
  return { cmdline: DESKTOP_CMDLINE, readyMarker: DESKTOP_READY_MARKER, guestAgent: true, user: { ...DESKTOP_USER }, minMemoryMiB: 1024, memoryMiB: 2048 };
};
