import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { qemuImgCreate } from '../qemu-img.js';
import { VmError } from './errors.js';

/** A fresh, empty qcow2 of `sizeBytes` (a VM's blank disk, e.g. beside an ISO it installs from). */
export async function createBlankDisk(file: string, sizeBytes: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await rm(file, { force: true });
  await qemuImgCreate(file, sizeBytes).catch(async (err: unknown) => {
    await rm(file, { force: true });
    // qemu-img's own message without its hint: ours replaces it.
    const why = (err as Error).message.split('\n  → ')[0];
    throw new VmError('EOVERLAY', `could not create the blank disk ${file} (${sizeBytes} bytes): ${why}`, {
      cause: err,
      hint: 'is qemu-img installed (`npx demotool setup --yes`), and does the disk have room?',
    });
  });
}
