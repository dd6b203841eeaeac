/**
 * An ISO 9660 image (an installer or a live CD) as an image source. It is written `file:PATH`,
 * like a local disk file, and told apart by its content: an ISO 9660 volume descriptor
 * (`CD001` at byte 0x8001), whatever the file's name. It is copied once into the cache, read-only,
 * as `iso-` + 16 hex digits of its sha256, and a VM boots it as a read-only CD-ROM.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { ImageValidationError } from './errors.js';
import { sha256File } from './content-hash.js';

/** Cache names of ISO images: `iso-` and 16 hex digits of the content hash. */
export const ISO_NAME_RE = /^iso-[0-9a-f]{16}$/;

export function isoImageName(sha256: string): string {
  return `iso-${sha256.slice(0, 16)}`;
}

/** ISO 9660: 16 system-area sectors, then volume descriptors of one 2048-byte sector each. */
const SECTOR = 2048;
const FIRST_DESCRIPTOR = 16 * SECTOR;
const MAGIC = 'CD001';
const PRIMARY = 1;
const TERMINATOR = 255;
/** Descriptors before the terminator: a primary, boot records, supplementaries (Joliet). Real images have a handful. */
const MAX_DESCRIPTORS = 32;

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const hasMagic = (descriptor: Buffer) => descriptor.subarray(1, 6).toString('latin1') === MAGIC;

/**
 * Is `file` meant as an ISO image? Its first volume descriptor says so, or, when it has none,
 * its name ends in `.iso` (then checkIso() says what is wrong with it). An unreadable file is not.
 */
export async function looksLikeIso(file: string): Promise<boolean> {
  if (path.extname(file).toLowerCase() === '.iso') return true;
  const head = await readAt(file, FIRST_DESCRIPTOR, 6).catch(() => Buffer.alloc(0));
  return head.length === 6 && hasMagic(head);
}

const corrupt = (file: string, reason: string) =>
  new ImageValidationError({
    image: file,
    step: 'ISO image',
    reason,
    hint: 'the file is damaged or not an ISO 9660 image: download or build it again (its checksum should match the one published with it)',
  });

/**
 * Checks that `file` is a whole ISO 9660 image, before anything is copied or defined: a readable
 * regular file with a primary volume descriptor and a terminator, and at least as long as the
 * volume that descriptor declares (a truncated download is shorter).
 * @returns its size in bytes.
 * @throws {@link UsageError} for a missing or unreadable file or a directory; {@link ImageValidationError} for a corrupt image.
 */
export async function checkIso(file: string): Promise<number> {
  const st = await fs.stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`ISO file ${file} does not exist (${e.code})`, 'give the path of an ISO 9660 image, e.g. file:./installer.iso');
  });
  if (!st.isFile()) throw new UsageError(`ISO file ${file} is not a file`, 'give the path of an ISO 9660 image file, not a directory');
  await fs.access(file, constants.R_OK).catch(() => {
    throw new UsageError(`ISO file ${file} is not readable`, 'check its permissions');
  });
  const volumeBytes = await primaryVolumeBytes(file);
  if (st.size < volumeBytes) throw corrupt(file, `truncated: its volume is ${volumeBytes} bytes, the file only ${st.size}`);
  return st.size;
}

/** The volume size the primary volume descriptor declares, in bytes; walks the descriptors up to the terminator. */
async function primaryVolumeBytes(file: string): Promise<number> {
  const area = await readAt(file, FIRST_DESCRIPTOR, MAX_DESCRIPTORS * SECTOR);
  let volumeBytes: number | undefined;
  for (let i = 0; i < MAX_DESCRIPTORS; i++) {
    const d = area.subarray(i * SECTOR, (i + 1) * SECTOR);
    if (d.length < SECTOR)
      throw corrupt(
        file,
        i === 0 ? `no ISO 9660 volume descriptor (the file ends before byte ${FIRST_DESCRIPTOR + SECTOR})` : 'truncated in its volume descriptors',
      );
    if (!hasMagic(d)) throw corrupt(file, i === 0 ? `no ISO 9660 volume descriptor (no ${MAGIC} at byte 0x8001)` : `volume descriptor ${i} has no ${MAGIC}`);
    if (d[0] === TERMINATOR) {
      if (volumeBytes === undefined) throw corrupt(file, 'no primary volume descriptor');
      return volumeBytes;
    }
    if (d[0] === PRIMARY && volumeBytes === undefined) volumeBytes = declaredSize(file, d);
  }
  throw corrupt(file, `no volume descriptor set terminator in the first ${MAX_DESCRIPTORS} descriptors`);
}

/** Volume space size (blocks) × logical block size, each stored both little- and big-endian: both must agree. */
function declaredSize(file: string, pvd: Buffer): number {
  const blocks = pvd.readUInt32LE(80);
  const blockSize = pvd.readUInt16LE(128);
  if (blocks !== pvd.readUInt32BE(84) || blockSize !== pvd.readUInt16BE(130) || blocks === 0 || ![512, 1024, 2048].includes(blockSize))
    throw corrupt(file, `its primary volume descriptor is damaged (${blocks} blocks of ${blockSize} bytes)`);
  return blocks * blockSize;
}

/**
 * Copies the ISO to `out` (via `tmp`, a name the cache knows as a leftover, so a copy that dies is
 * cleaned up next time), read-only: the cache's copy is never written, and the user's file is only read.
 * The copy must have the content hash `sha256` the image is named after (the file may change meanwhile).
 */
export async function copyIsoInto(file: string, sha256: string, tmp: string, out: string): Promise<void> {
  try {
    await fs.copyFile(file, tmp);
    await fs.chmod(tmp, 0o444);
    if ((await sha256File(tmp)) !== sha256)
      throw new ImageValidationError({
        image: file,
        step: 'ISO image',
        reason: 'the file changed while it was copied',
        hint: 'import it again once it is complete',
      });
    await fs.rename(tmp, out);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
