import { execa } from 'execa';
import { tail } from './run.js';

export interface QemuImgInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFile?: string;
}

export type CheckResult = { ok: true } | { ok: false; reason: string };

// -U (force share): base images are opened read-only by running VMs' overlays; reading
// them for a check is safe and must not fail on QEMU's image lock.
export async function qemuImgInfo(file: string): Promise<QemuImgInfo> {
  const r = await execa('qemu-img', ['info', '-U', '--output=json', file], { reject: false });
  if (r.exitCode !== 0) throw new Error(`qemu-img info failed: ${tail(r.stderr, 5) || r.shortMessage}`);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  return {
    format: String(j.format),
    virtualSize: Number(j['virtual-size']),
    actualSize: j['actual-size'] === undefined ? undefined : Number(j['actual-size']),
    backingFile: j['backing-filename'] as string | undefined,
  };
}

/** qemu-img check exit codes: 0 clean, 3 only leaked clusters (harmless); 2 corrupt, 1 could not check. */
export async function qemuImgCheck(file: string): Promise<CheckResult> {
  const r = await execa('qemu-img', ['check', '-U', '-f', 'qcow2', file], { reject: false });
  if (r.exitCode === 0 || r.exitCode === 3) return { ok: true };
  const why = tail(`${r.stderr}\n${r.stdout}`, 4).replace(/\n/g, ' | ') || r.shortMessage;
  return { ok: false, reason: `qemu-img check exit ${r.exitCode}: ${why}` };
}

export async function qemuImgCreate(file: string, sizeBytes: number, backing?: string): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2'];
  if (backing) args.push('-b', backing, '-F', 'qcow2');
  args.push(file);
  if (!backing) args.push(String(sizeBytes));
  await execa('qemu-img', args);
}
