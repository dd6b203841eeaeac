import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { qemuImg } from '../qemu-img.js';
import { VmError } from './errors.js';

/** A copy-on-write qcow2 layer over a base image (qcow2, or an existing domain's raw disk). The base is never written. */
export async function createOverlay(base: string, overlay: string, baseFormat: 'qcow2' | 'raw' = 'qcow2'): Promise<void> {
  await mkdir(dirname(overlay), { recursive: true });
  await rm(overlay, { force: true });
  // A timeout throws CommandTimeoutError; whatever it left behind is not an overlay.
  const r = await qemuImg(['create', '-q', '-f', 'qcow2', '-F', baseFormat, '-b', base, overlay]).catch(async (err: unknown) => {
    await rm(overlay, { force: true });
    throw err;
  });
  if (r.failed)
    throw new VmError('EOVERLAY', `could not create the overlay ${overlay} on ${base}: ${r.stderr.trim() || r.shortMessage}`, {
      hint: 'is qemu-img installed (`npx demotool setup --yes`), and is the disk writable?',
    });
}
