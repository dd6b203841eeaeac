import { execa } from 'execa';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageCache } from '../images/index.js';
import { Virsh, libvirtUri } from '../libvirt/index.js';
import { decideAccel } from '../api/internal.js';
import { formatMiB } from './image-size.js';

interface Check {
  ok: boolean | 'warn';
  what: string;
  detail: string;
  fix?: string;
}

async function tool(cmd: string, args: string[], fix: string): Promise<Check> {
  const r = await execa(cmd, args, { reject: false, timeout: 20_000 });
  const first = `${r.stdout}\n${r.stderr}`.trim().split('\n')[0] ?? '';
  return r.failed ? { ok: false, what: cmd, detail: 'not found', fix } : { ok: true, what: cmd, detail: first };
}

async function libvirt(): Promise<Check> {
  const uri = libvirtUri();
  const ping = await new Virsh({ uri }).ping();
  return ping.ok
    ? { ok: true, what: 'libvirt', detail: `${uri} answers (${ping.version.trim()})` }
    : {
        ok: false,
        what: 'libvirt',
        detail: `${uri} does not answer`,
        fix: 'run `npx demotool setup --yes` (starts libvirtd), or as root: virtlogd -d; libvirtd -d',
      };
}

async function accel(cache: ImageCache): Promise<Check> {
  try {
    const d = await decideAccel(cache);
    return {
      ok: d.accel === 'kvm' ? true : 'warn',
      what: 'acceleration',
      detail: `${d.accel.toUpperCase()}: ${d.reason}`,
      fix: d.accel === 'tcg' ? 'guests run under TCG (slower, works); raise DEMOTOOL_TIMEOUT_SCALE on slow machines' : undefined,
    };
  } catch (e) {
    return {
      ok: false,
      what: 'acceleration',
      detail: `probe failed: ${(e as Error).message.split('\n')[0]}`,
      fix: 'run `npx demotool setup` to build the tiny image the probe boots',
    };
  }
}

async function images(cache: ImageCache): Promise<Check> {
  const list = await cache.list();
  if (list.length === 0)
    return {
      ok: 'warn',
      what: 'images',
      detail: `none cached in ${cache.dir}`,
      fix: 'run `npx demotool setup` (tiny) or `npx demotool images build debian-12-desktop`',
    };
  const names = list.map((i) => `${i.name} (${formatMiB(i.sizeBytes)})`).join(', ');
  return { ok: true, what: 'images', detail: `${names} in ${cache.dir}` };
}

/** Below this much free space where the cache is, doctor warns: a full disk pauses VMs and stops recordings. */
const LOW_FREE_BYTES = 5 * 2 ** 30;

async function cacheSpace(cache: ImageCache): Promise<Check> {
  const { imagesBytes, savedBootsBytes } = await cache.diskUse();
  const boots = (await cache.savedBoots()).length;
  const disk = await statfs(cache.dir).catch(() => undefined);
  const free = disk ? disk.bavail * disk.bsize : undefined;
  const detail = `images ${formatMiB(imagesBytes)}, saved boots ${formatMiB(savedBootsBytes)} (${boots})${free !== undefined ? `; ${formatMiB(free)} free` : ''}`;
  if (free !== undefined && free < LOW_FREE_BYTES)
    return {
      ok: 'warn',
      what: 'cache disk',
      detail: `${detail}: a full disk pauses running VMs (EVMPAUSEDIO) and stops recordings`,
      fix: 'free space, or `npx demotool images prune --unused-for 30d --max-size 8G`',
    };
  return { ok: true, what: 'cache disk', detail };
}

/** Exited QEMU processes that nobody reaped (zombies whose parent is PID 1), read from `procDir`. */
export async function unreapedQemus(procDir = '/proc'): Promise<number> {
  let count = 0;
  for (const pid of (await readdir(procDir).catch(() => [] as string[])).filter((e) => /^\d+$/.test(e))) {
    const stat = await readFile(join(procDir, pid, 'stat'), 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' && ppid === '1' && comm.startsWith('qemu-system')) count++;
  }
  return count;
}

async function reaping(): Promise<Check> {
  const zombies = await unreapedQemus();
  return zombies === 0
    ? { ok: true, what: 'QEMU reaping', detail: 'no exited QEMU left unreaped' }
    : {
        ok: 'warn',
        what: 'QEMU reaping',
        detail: `${zombies} exited QEMU process(es) never reaped: PID 1 does not reap here, and libvirt waits ~2 s for each on every destroy, save and restarting revert`,
        fix: 'restart libvirtd under a subreaper: `setsid tini -s -- libvirtd &` (setup does so when it starts libvirtd itself)',
      };
}

/** One line per check, with a fix where something is missing. Returns the number of failures. */
export async function doctor(): Promise<number> {
  const cache = new ImageCache();
  const checks: Check[] = [
    await libvirt(),
    await reaping(),
    await accel(cache),
    await tool('qemu-system-x86_64', ['--version'], 'apt-get install qemu-system-x86 (or `npx demotool setup --yes`)'),
    await tool('qemu-img', ['--version'], 'apt-get install qemu-utils'),
    await tool('ffmpeg', ['-version'], 'apt-get install ffmpeg'),
    await tool('virt-builder', ['--version'], 'apt-get install guestfs-tools'),
    await tool('mmdebstrap', ['--version'], 'apt-get install mmdebstrap'),
    await tool('tesseract', ['--version'], 'apt-get install tesseract-ocr'),
    // the closed guest network: without them, guests get no HTTP channel to the watchdog
    await tool('passt', ['--version'], 'apt-get install passt (or `npx demotool setup --yes`)'),
    await tool('socat', ['-V'], 'apt-get install socat'),
    await images(cache),
    await cacheSpace(cache),
  ];
  for (const c of checks) {
    const mark = c.ok === true ? 'ok  ' : c.ok === 'warn' ? 'warn' : 'FAIL';
    console.log(`${mark} ${c.what.padEnd(20)} ${c.detail}${c.fix && c.ok !== true ? `\n     fix: ${c.fix}` : ''}`);
  }
  return checks.filter((c) => c.ok === false).length;
}
