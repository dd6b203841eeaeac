/**
 * What a recipe adds to tiny's initramfs: Debian packages unpacked with their Depends closure
 * (tiny has no dpkg; maintainer scripts don't run), the recipe's files, and its first-boot
 * commands, run by rcS before the console's shell (and so the ready marker) comes up.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { CpioEntry } from './builders/cpio.js';
import type { BuildContext } from './builders/types.js';
import { lastLines } from '../errors.js';
import { ImageBuildError } from './errors.js';
import type { ResolvedRecipe } from './recipe.js';

const FIRST_BOOT = 'etc/demotool/first-boot.sh';

/** rcS's tail when the recipe has first-boot commands: each tiny boot is a first boot (an initramfs keeps nothing). */
export const TINY_FIRST_BOOT_RCS = `# The recipe's first-boot commands; their output goes to the serial log.
echo "demotool: first-boot commands" > /dev/ttyS0
PATH=/usr/local/bin:/sbin:/usr/sbin:/bin:/usr/bin sh -e /${FIRST_BOOT} < /dev/null > /dev/ttyS0 2>&1 || echo "demotool: first-boot commands failed: exit $?" > /dev/ttyS0
`;

// Docs, man pages and translations: nothing a demo's program needs, and they would bloat the initramfs.
const SKIPPED = /^usr\/share\/(doc|man|info|locale|lintian|bug)(\/|$)/;

/** Entries that go before tiny's own (so a package never replaces its init, shell or busybox). */
export async function tinyPackageEntries(ctx: BuildContext, recipe: ResolvedRecipe): Promise<CpioEntry[]> {
  if (!recipe.packages.length) return [];
  ctx.progress('recipe packages', 50);
  const all = await dependencyClosure(ctx, recipe.packages);
  ctx.log.info('recipe packages for tiny (with their dependencies)', { packages: recipe.packages.join(' '), closure: all.length });
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-recipe-'));
  try {
    const debs = path.join(work, 'debs');
    const root = path.join(work, 'root');
    await fs.mkdir(debs);
    await fs.mkdir(root);
    // root's apt drops to the _apt user, which can't write a private temp dir
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const dl = await execa('apt-get', ['download', ...sandbox, ...all], { cwd: debs, reject: false, timeout: 15 * 60_000 });
    if (dl.failed) throw packageError(ctx, `apt-get download failed: ${lastLines(dl.stderr, 1)}`, dl);
    for (const deb of (await fs.readdir(debs)).filter((f) => f.endsWith('.deb'))) {
      const x = await execa('dpkg-deb', ['-x', path.join(debs, deb), root], { reject: false, timeout: 5 * 60_000 });
      if (x.failed) throw packageError(ctx, `dpkg-deb -x ${deb} failed: ${lastLines(x.stderr, 1)}`, x);
    }
    return await treeEntries(root);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Entries that go after tiny's own: the recipe's files (a file of the same path replaces tiny's), and the first-boot script. */
export function tinyFileEntries(recipe: ResolvedRecipe): CpioEntry[] {
  const files = recipe.files.map((f) => ({ path: f.guestPath.slice(1), data: f.data, mode: f.mode }));
  if (recipe.firstBoot.length) files.push({ path: FIRST_BOOT, data: Buffer.from(`${recipe.firstBoot.join('\n')}\n`), mode: 0o755 });
  const dirs = new Set<string>();
  for (const f of files) for (let d = path.posix.dirname(f.path); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  return [
    ...[...dirs].sort().map((d): CpioEntry => ({ path: d, type: 'dir', mode: 0o755 })),
    ...files.map((f): CpioEntry => ({ path: f.path, type: 'file', data: f.data, mode: f.mode })),
  ];
}

/**
 * The packages with everything they Depend or Pre-Depend on, recursively (the first choice of an
 * alternative; a virtual package's first provider), from the host's apt lists.
 */
async function dependencyClosure(ctx: BuildContext, wanted: string[]): Promise<string[]> {
  const seen = new Set<string>();
  let next = [...new Set(wanted)];
  while (next.length) {
    const r = await execa(
      'apt-cache',
      ['depends', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...next],
      {
        reject: false,
        timeout: 120_000,
      },
    );
    // apt-cache fails only when it knows none of them; otherwise it skips the unknown ones.
    const noneKnown = r.failed && /No packages found/.test(r.stderr);
    if (r.failed && !noneKnown) throw packageError(ctx, `apt-cache depends failed: ${lastLines(r.stderr, 1)}`, r);
    const { found, depends } = parseDepends(noneKnown ? '' : r.stdout);
    const missing = next.filter((p) => !found.has(p));
    if (missing.length) throw packageError(ctx, `no package ${missing.join(', ')} in the host's apt sources`);
    for (const p of next) seen.add(p);
    next = [...new Set(depends)].filter((p) => !seen.has(p));
  }
  return [...seen].sort();
}

/** `apt-cache depends` output: the packages it described, and the first choice of each dependency. */
export function parseDepends(text: string): { found: Set<string>; depends: string[] } {
  const found = new Set<string>();
  const depends: string[] = [];
  const lines = text.split('\n');
  let inGroup = false; // the previous line was `|Depends:` (an alternative follows)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^[a-z0-9]/.test(line)) {
      found.add(line.trim().replace(/:.*$/, ''));
      inGroup = false;
      continue;
    }
    const m = /^\s+(\|)?(?:Pre)?Depends: (\S+)/.exec(line);
    if (!m) continue;
    const first = !inGroup;
    inGroup = !!m[1];
    if (!first) continue;
    let name = m[2]!;
    // A virtual package: its providers are listed below it, indented further.
    if (name.startsWith('<')) {
      const provider = lines[i + 1]?.match(/^\s{4,}(\S+)$/)?.[1];
      if (!provider) continue;
      name = provider;
    }
    depends.push(name.replace(/:.*$/, ''));
  }
  return { found, depends };
}

/** Every directory, file and symlink under `root`, parents first, as initramfs entries. */
async function treeEntries(root: string): Promise<CpioEntry[]> {
  const out: CpioEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (SKIPPED.test(r)) continue;
      const abs = path.join(root, r);
      const st = await fs.lstat(abs);
      if (st.isDirectory()) {
        out.push({ path: r, type: 'dir', mode: st.mode & 0o7777 });
        await walk(r);
      } else if (st.isSymbolicLink()) out.push({ path: r, type: 'symlink', target: await fs.readlink(abs) });
      else if (st.isFile()) out.push({ path: r, type: 'file', data: await fs.readFile(abs), mode: st.mode & 0o7777 });
    }
  };
  await walk('');
  return out;
}

function packageError(ctx: BuildContext, reason: string, cause?: unknown): ImageBuildError {
  return new ImageBuildError({
    image: ctx.name,
    step: 'recipe packages',
    reason,
    cause,
    hint: "recipe packages come from the host's apt sources: check the name (apt-cache policy NAME) and run apt-get update",
  });
}
