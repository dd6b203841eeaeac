import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
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
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(value);
    if (!m) throw new UsageError(`${what} is not a disk size`, HINT);
    bytes = Math.ceil(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  } else throw new UsageError(`${what} is not a disk size (a number of bytes or a string such as '2G')`, HINT);
  if (bytes < MIN || bytes > MAX) throw new UsageError(`${what} is ${bytes} bytes: a blank disk is from 1 MiB to 64 TiB`, HINT);
  return Math.ceil(bytes / 512) * 512;
}
