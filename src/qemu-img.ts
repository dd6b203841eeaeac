import { execa } from 'execa';
import { CommandTimeoutError, DemotoolError, lastLines } from './errors.js';
import { defaultTimeout } from './timeouts.js';

/** qemu-img ran and failed (a missing or unreadable file, a bad backing chain, a full disk). */
export class QemuImgError extends DemotoolError {
  constructor(message: string) {
    super('EQEMUIMG', message, { hint: 'check that the file exists, is readable, and that its disk has room' });
  }
}

export interface QemuImgInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFile?: string;
}

export type CheckResult = { ok: true } | { ok: false; reason: string };

/**
 * Runs one qemu-img command. Killed with SIGKILL after the qemuImg timeout
 * (CommandTimeoutError): a hung NFS mount or a wedged image lock must not hang demotool.
 */
export async function qemuImg(args: string[]) {
  const timeoutMs = defaultTimeout('qemuImg');
  const r = await execa('qemu-img', args, { reject: false, timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.timedOut) throw new CommandTimeoutError(`qemu-img ${args.join(' ')}`, timeoutMs);
  return r;
}

// -U (force share): base images are opened read-only by running VMs' overlays; reading
// them for a check is safe and must not fail on QEMU's image lock.
export async function qemuImgInfo(file: string): Promise<QemuImgInfo> {
  const r = await qemuImg(['info', '-U', '--output=json', file]);
  if (r.exitCode !== 0) throw new QemuImgError(`qemu-img info ${file} failed: ${lastLines(r.stderr, 5) || r.shortMessage}`);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  return {
    format: String(j.format),
    virtualSize: Number(j['virtual-size']),
    actualSize: j['actual-size'] === undefined ? undefined : Number(j['actual-size']),
    backingFile: j['backing-filename'] as string | undefined,
  };
}

/**
 * qemu-img check exit codes: 0 clean, 3 only leaked clusters (harmless); 2 corrupt, 1 could
 * not check. A check that times out throws (CommandTimeoutError): slow is not corrupt.
 */
export async function qemuImgCheck(file: string): Promise<CheckResult> {
  const r = await qemuImg(['check', '-U', '-f', 'qcow2', file]);
  if (r.exitCode === 0 || r.exitCode === 3) return { ok: true };
  const why = lastLines(`${r.stderr}\n${r.stdout}`, 4).replace(/\n/g, ' | ') || r.shortMessage;
  return { ok: false, reason: `qemu-img check exit ${r.exitCode}: ${why}` };
}

export async function qemuImgCreate(file: string, sizeBytes: number, backing?: string): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2'];
  if (backing) args.push('-b', backing, '-F', 'qcow2');
  args.push(file);
  if (!backing) args.push(String(sizeBytes));
  const r = await qemuImg(args);
  if (r.exitCode !== 0) throw new QemuImgError(`qemu-img create ${file} failed: ${lastLines(r.stderr, 5) || r.shortMessage}`);
}
