import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProbe } from '../../src/libvirt/accel.js';

// The KVM probe runs QEMU under `setpriv --pdeathsig SIGKILL`: killed with SIGKILL, the process that
// probes can't clean up, so the kernel must. A fake QEMU (a shell script that sleeps) and a fake
// /dev/kvm (a plain file) stand in: this host has no KVM, and the behaviour is the process tree's.

const repo = fileURLToPath(new URL('../..', import.meta.url));
const boot = { kernel: '/nonexistent/vmlinuz', initrd: '/nonexistent/initrd', cmdline: 'console=ttyS0', marker: 'PROBE-READY' };

let dir: string;
let device: string;
let pidFile: string;
test.beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kvm-probe-'));
  device = path.join(dir, 'kvm');
  await fs.writeFile(device, '');
  pidFile = path.join(dir, 'qemu.pid');
});
test.afterEach(async () => {
  const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => NaN));
  if (alive(pid)) process.kill(pid, 'SIGKILL'); // only after a failure: the fake QEMU outlived the probe
  await fs.rm(dir, { recursive: true, force: true });
});

/** A fake QEMU: notes its pid, writes `serialText` to its -serial file, then sleeps like a guest that never finishes booting. */
async function fakeQemu(serialText = ''): Promise<string> {
  const qemu = path.join(dir, 'qemu-system-x86_64');
  await fs.writeFile(
    qemu,
    `#!/bin/sh
echo $$ > '${pidFile}'
while [ $# -gt 0 ]; do [ "$1" = -serial ] && serial="\${2#file:}"; shift; done
printf '%s' '${serialText}' > "$serial"
exec sleep 300
`,
    { mode: 0o755 },
  );
  return qemu;
}

/** Running, and not a zombie (where PID 1 does not reap orphans, as in some containers, a dead process stays one). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function qemuPid(): Promise<number> {
  await expect.poll(() => fs.readFile(pidFile, 'utf8').catch(() => ''), { timeout: 20_000 }).toMatch(/^\d+\n$/);
  return Number(await fs.readFile(pidFile, 'utf8'));
}

test("the probe's QEMU dies when the probing process is SIGKILLed", async () => {
  const qemu = await fakeQemu();
  const child = path.join(dir, 'probe.mts');
  await fs.writeFile(
    child,
    `import { runProbe } from ${JSON.stringify(path.join(repo, 'src/libvirt/accel.ts'))};
await runProbe(${JSON.stringify(boot)}, 120_000, { device: ${JSON.stringify(device)}, qemu: ${JSON.stringify(qemu)} });
`,
  );
  const prober = spawn(process.execPath, ['--import', 'tsx', child], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  prober.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => prober.on('exit', (_code, signal) => resolve(signal)));
  try {
    const pid = await qemuPid();
    expect(alive(pid), 'the fake QEMU runs while the probe waits for the guest').toBe(true);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('sleep');
    // Still probing (nothing on the serial port), so the fake QEMU is the prober's to kill.
    await new Promise((r) => setTimeout(r, 500));
    expect(prober.exitCode, stderr).toBeNull();
    prober.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 10_000, message: 'the fake QEMU outlived the SIGKILLed probe' }).toBe(false);
  } finally {
    prober.kill('SIGKILL');
    await fs.rm(path.join(os.tmpdir(), `demotool-kvm-probe-${prober.pid}.log`), { force: true }); // the serial log the killed probe could not remove
  }
});

test('the injected device and QEMU are the ones used: a missing device means TCG, no QEMU run', async () => {
  const qemu = await fakeQemu();
  const missing = path.join(dir, 'no-kvm');
  expect(await runProbe(boot, 5_000, { device: missing, qemu })).toEqual({ accel: 'tcg', reason: `${missing} is missing or not accessible` });
  await expect(fs.access(pidFile)).rejects.toThrow();
});

test('a guest that prints the marker means KVM; one that never does times out to TCG, its QEMU killed', async () => {
  expect(await runProbe(boot, 20_000, { device, qemu: await fakeQemu('booted: PROBE-READY\n') })).toEqual({
    accel: 'kvm',
    reason: 'a KVM guest booted to userspace',
  });
  const first = await qemuPid();
  await fs.rm(pidFile);
  const decision = await runProbe(boot, 1_500, { device, qemu: await fakeQemu('still booting\n') });
  expect(decision).toEqual({ accel: 'tcg', reason: 'a KVM guest did not reach userspace within 1.5 s (nested KVM?)' });
  const second = await qemuPid();
  await expect.poll(() => [alive(first), alive(second)], { timeout: 5_000 }).toEqual([false, false]);
});
