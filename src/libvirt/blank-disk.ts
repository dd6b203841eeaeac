import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { qemuImg } from '../qemu-img.js';
import { VmError } from './errors.js';

/** A fresh, empty qcow2 of `sizeBytes` (a VM's blank disk, e.g. beside an ISO it installs from). */
export async function createBlankDisk(file: string, sizeBytes: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await rm(file, { force: true });
  const r = await qemuImg(['create', '-q', '-f', 'qcow2', file, String(sizeBytes)]).catch(async (err: unknown) => {
    await rm(file, { force: true });
    throw err;
  });
  if (r.failed)
    throw new VmError('EOVERLAY', `could not create the blank disk ${file} (${sizeBytes} bytes): ${r.stderr.trim() || r.shortMessage}`, {
      hint: 'is qemu-img installed (`npx demotool setup --yes`), and does the disk have room?',
    });
}
