const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Bytes from a size as people write it: '64M', '2G', '1.5T', '10GiB' or a plain number of bytes
 * (K, M, G and T are powers of 1024, as for qemu-img). Undefined for anything else.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  return m ? Math.ceil(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : undefined;
}
