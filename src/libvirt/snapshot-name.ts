import { UsageError } from '../errors.js';

const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Snapshot names reach virsh and QEMU's monitor as bare words: a leading `-` would be read as
 * an option (`--halt` once halted a domain), spaces would split an HMP command. Letters,
 * digits, `.`, `_` and `-` only, starting with a letter or digit.
 */
export function checkSnapshotName(name: unknown): string {
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name))
    throw new UsageError(
      `invalid snapshot name ${JSON.stringify(name)}`,
      'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (for example "ready")',
    );
  return name;
}
