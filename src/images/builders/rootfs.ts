import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { run } from '../run.js';

/**
 * Shell that turns a root directory into a bare ext4 filesystem image (no partition table, so
 * the guest mounts /dev/vda) and copies its newest kernel and initrd out. Runs as root, or in
 * mmdebstrap's user namespace (`--unshare-helper`) so file owners come out right; with a
 * tarball it unpacks that first.
 * Arguments: rootdir raw kernel-out initrd-out [tarball]
 */
export const FINISH_SCRIPT = `set -eu
root=$1 raw=$2 kernel=$3 initrd=$4 tarball=\${5:-}
if [ -n "$tarball" ]; then
  mkdir -p "$root"
  tar -C "$root" --xattrs --xattrs-include='*' --numeric-owner -xf "$tarball"
  rm -f "$tarball"
fi
used=$(du -sx --block-size=1 "$root" | cut -f1)
size=$(( (used + used / 4 + 256 * 1048576 + 1048575) / 1048576 ))
echo "demotool: root filesystem $((used / 1048576)) MiB, disk \${size} MiB"
rm -f "$raw"
truncate -s "\${size}M" "$raw"
mkfs.ext4 -q -F -L root -d "$root" "$raw"
echo "demotool: mkfs done"
cp "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)" "$kernel"
cp "$(ls "$root"/boot/initrd.img-* | sort -V | tail -n 1)" "$initrd"
chmod 0644 "$kernel" "$initrd"
echo "demotool: initrd $(($(stat -c %s "$initrd") / 1024)) KiB"
`;

/** Mount points at or below `dir` (a failed chroot build can leave /proc or /dev mounted there). */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const abs = path.resolve(dir);
  return text
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === abs || m.startsWith(abs + '/')))
    .sort((a, b) => b.length - a.length);
}

/**
 * Delete a build tree, never following a leftover bind mount into the host's /dev or /proc:
 * unmount what is mounted there first, and keep the tree if that fails.
 */
export async function removeTree(dir: string, log: Logger): Promise<void> {
  for (const m of await mountsUnder(dir)) {
    await run('umount', ['-l', m], { image: '', step: 'cleanup', log }).catch((e) =>
      log.warn('could not unmount leftover build mount', { mount: m, error: e }),
    );
  }
  const left = await mountsUnder(dir);
  if (left.length) {
    log.error('build dir still has mounts; not deleting it', { dir, mounts: left.join(' ') });
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
}

export async function convertToQcow2(raw: string, qcow2: string, image: string, log: Logger): Promise<void> {
  await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2], {
    image,
    step: 'convert',
    log,
    aptPackage: 'qemu-utils',
  });
}
