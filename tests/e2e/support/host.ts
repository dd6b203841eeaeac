import { execa } from 'execa';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runDir } from '../../../src/api/state-directories.js';

/** Domains libvirt knows about, by name. */
export async function domains(): Promise<string[]> {
  const { stdout } = await execa('virsh', ['-q', '-c', process.env.DEMOTOOL_LIBVIRT_URI || 'qemu:///session', 'list', '--all', '--name']);
  return stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function virsh(...args: string[]): Promise<string> {
  return (await execa('virsh', ['-q', '-c', process.env.DEMOTOOL_LIBVIRT_URI || 'qemu:///session', ...args])).stdout.trim();
}

/** Files a VM keeps in the run dir (overlay, serial log, sockets, owner record), vnc/ included. */
export function runFiles(vmName: string): string[] {
  const list = (dir: string, prefix = '') =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.startsWith(vmName + '.'))
          .map((f) => prefix + f)
      : [];
  return [...list(runDir()), ...list(join(runDir(), 'vnc'), 'vnc/')];
}

/** Does something accept TCP connections on 127.0.0.1:port (or on a unix socket)? Returns the first bytes it sends. */
export function tcpGreeting(port: number | string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof port === 'string' ? connect(port) : connect(port, '127.0.0.1');
    const t = setTimeout(() => (s.destroy(), reject(new Error(`no answer on ${port}`))), timeoutMs);
    s.once('data', (d) => (clearTimeout(t), s.destroy(), resolve(d.toString('latin1'))));
    s.once('error', (e) => (clearTimeout(t), reject(e)));
  });
}

/** The QEMU process of a libvirt domain (its command line names the guest). */
export async function qemuPid(domain: string): Promise<number> {
  const r = await execa('pgrep', ['-f', '--', `-name guest=${domain},`], { reject: false });
  const pids = r.stdout.split('\n').filter(Boolean).map(Number);
  if (pids.length !== 1) throw new Error(`expected one QEMU for ${domain}, found ${pids.length}`);
  return pids[0]!;
}

/** Where the cgroup v1 freezer is mounted: it stops single threads (a process's vCPUs, not its main loop). */
export const FREEZER = '/sys/fs/cgroup/freezer';

/**
 * Stops the VM's vCPU threads for `ms` (`after` ms from now) while QEMU's main loop goes on (it keeps taking VNC input
 * and filling the guest's devices): what a guest whose vCPU isn't scheduled on a busy host sees. Resolves once thawed,
 * with when (performance.now()) the threads were frozen for certain (the freezer says FROZEN), so a test can check the
 * stall fell where it meant.
 */
export async function freezeVcpus(domain: string, ms: number, { after = 0 } = {}): Promise<number> {
  await new Promise((r) => setTimeout(r, after));
  const pid = await qemuPid(domain);
  const dir = join(FREEZER, `demotool-test-${process.pid}-${pid}`);
  const vcpus = (await readdir(`/proc/${pid}/task`)).filter((tid) => /^CPU \d+\//.test(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8')));
  if (vcpus.length === 0) throw new Error(`QEMU ${pid} has no vCPU thread`);
  await mkdir(dir);
  try {
    for (const tid of vcpus) await writeFile(join(dir, 'tasks'), tid);
    await writeFile(join(dir, 'freezer.state'), 'FROZEN');
    // FREEZING until every thread has stopped (one inside a system call stops on its way out).
    const deadline = performance.now() + 5_000;
    while ((await readFile(join(dir, 'freezer.state'), 'utf8')).trim() !== 'FROZEN') {
      if (performance.now() > deadline) throw new Error(`QEMU ${pid}'s vCPU threads did not freeze within 5 s`);
      await new Promise((r) => setTimeout(r, 1));
    }
    const frozeAt = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    return frozeAt;
  } finally {
    await writeFile(join(dir, 'freezer.state'), 'THAWED');
    for (const tid of vcpus) await writeFile(join(FREEZER, 'tasks'), tid).catch(() => undefined);
    await rmdir(dir);
  }
}

/** An image cache dir's entries, sorted, without `kernels/`: tiny's kernel package is unpacked there on a host with no kernel in /boot. */
export async function cacheEntries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f !== 'kernels').sort();
}

/** True when /boot has a kernel tiny boots (else tiny's build takes the package's: downloaded, or copied from the default cache). */
export const hostHasKernel = (): boolean => existsSync('/boot') && readdirSync('/boot').some((n) => /^vmlinuz-\d/.test(n));
