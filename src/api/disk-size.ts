import { parseByteSize } from '../byte-size.js';
import { UsageError } from '../errors.js';

const MIN = 2 ** 20;
const MAX = 64 * 2 ** 40;
const HINT = "give bytes (67108864) or a number and a unit: '64M', '2G', '1.5T' (K, M, G and T are powers of 1024, as for qemu-img); from 1M to 64T";

/**
 * The size of a blank disk (VmOptions.blankDisk) in bytes, rounded up to whole 512-byte sectors.
 * @throws {@link UsageError} for anything but a size from 1 MiB to 64 TiB.
 */
export function parseDiskSize(value: unknown): number {
  const what = `blankDisk ${JSON.stringify(value)}`;
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new UsageError(`${what} is not a whole number of bytes`, HINT);
    bytes = value;
  } else if (typeof value === 'string') {
    const parsed = parseByteSize(value);
    if (parsed === undefined) throw new UsageError(`${what} is not a disk size`, HINT);
    bytes = parsed;
  } else throw new UsageError(`${what} is not a disk size (a number of bytes or a string such as '2G')`, HINT);
  if (bytes < MIN || bytes > MAX) throw new UsageError(`${what} is ${bytes} bytes: a blank disk is from 1 MiB to 64 TiB`, HINT);
  return Math.ceil(bytes / 512) * 512;
}
