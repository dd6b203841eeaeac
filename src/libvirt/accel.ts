import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import type { KernelBoot } from './domain-xml.js';
import { createLogger } from '../log.js';
import { Deadline, sleep } from '../timeouts.js';

export type Accel = 'kvm' | 'tcg';

export interface AccelDecision {
  accel: Accel;
  reason: string;
}

const log = createLogger('accel');

/** DEMOTOOL_ACCEL=kvm|tcg, when set. */
export function accelOverride(): Accel | undefined {
  const v = process.env.DEMOTOOL_ACCEL?.toLowerCase();
  if (v === 'kvm' || v === 'tcg') return v;
  return undefined;
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
}

/**
 * Does KVM really boot a guest here? /dev/kvm existing is not enough: nested KVM can hang at
 * kernel start or abort with "failed to set MSR". So boot the given kernel under KVM and wait
 * for its userspace to print on the serial port. The answer is cached per host boot.
 */
export async function probeKvm(boot: KernelBoot & { marker: string }, options: { cacheFile: string; timeoutMs?: number }): Promise<AccelDecision> {
  const id = await bootId();
  const cached = await readFile(options.cacheFile, 'utf8')
    .then((s) => JSON.parse(s) as AccelDecision & { bootId: string })
    .catch(() => undefined);
  if (cached && cached.bootId === id) return { accel: cached.accel, reason: cached.reason };
  const decision = await runProbe(boot, options.timeoutMs ?? 20_000);
  await mkdir(join(options.cacheFile, '..'), { recursive: true });
  await writeFile(options.cacheFile, JSON.stringify({ ...decision, bootId: id }));
  log.info('kvm probe', { ...decision });
  return decision;
}

/** The probe itself. `host`: the KVM device and the QEMU it runs (tests pass a fake device file and a fake QEMU). */
export async function runProbe(
  boot: KernelBoot & { marker: string },
  timeoutMs: number,
  host = { device: '/dev/kvm', qemu: 'qemu-system-x86_64' },
): Promise<AccelDecision> {
  try {
    await access(host.device, constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: `${host.device} is missing or not accessible` };
  }
  const serial = join(tmpdir(), `demotool-kvm-probe-${process.pid}.log`);
  // setpriv --pdeathsig: the probe's QEMU dies with this process, even on SIGKILL.
  const qemu = execa(
    'setpriv',
    [
      '--pdeathsig',
      'SIGKILL',
      host.qemu,
      '-accel',
      'kvm',
      '-cpu',
      'host',
      '-m',
      '256',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-kernel',
      boot.kernel,
      '-initrd',
      boot.initrd,
      '-append',
      `${boot.cmdline} panic=-1`,
      '-serial',
      `file:${serial}`,
    ],
    { reject: false, stdin: 'ignore', all: true },
  );
  const deadline = new Deadline(timeoutMs, 'the KVM probe');
  try {
    while (!deadline.expired()) {
      const text = await readFile(serial, 'utf8').catch(() => '');
      if (new RegExp(boot.marker).test(text)) return { accel: 'kvm', reason: 'a KVM guest booted to userspace' };
      if (qemu.exitCode !== null) {
        const out = (await qemu).all ?? '';
        return { accel: 'tcg', reason: `QEMU with KVM exited: ${out.trim().split('\n').pop() ?? 'no output'}` };
      }
      await sleep(250);
    }
    return { accel: 'tcg', reason: `a KVM guest did not reach userspace within ${timeoutMs / 1000} s (nested KVM?)` };
  } finally {
    qemu.kill('SIGKILL');
    await qemu.catch(() => undefined);
    await rm(serial, { force: true });
  }
}
