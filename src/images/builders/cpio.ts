/**
 * A tiny writer for the "newc" cpio format the kernel unpacks as initramfs. Written here so
 * the tiny image needs no cpio tool and no root (device nodes are just header fields).
 */
export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; data: Buffer | string; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'char'; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function record(ino: number, mode: number, name: string, data: Buffer, rdev: [number, number] = [0, 0]): Buffer {
  const nameBuf = Buffer.from(name + '\0');
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
  const header = Buffer.from('070701' + fields.map(hex).join(''), 'ascii');
  return Buffer.concat([header, nameBuf, pad4(header.length + nameBuf.length), data, pad4(data.length)]);
}

export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts = entries.map((e, i) => {
    const name = e.path.replace(/^\/+/, '');
    const ino = i + 1;
    switch (e.type) {
      case 'dir':
        return record(ino, S_IFDIR | (e.mode ?? 0o755), name, Buffer.alloc(0));
      case 'file':
        return record(ino, S_IFREG | (e.mode ?? 0o644), name, Buffer.from(e.data));
      case 'symlink':
        return record(ino, S_IFLNK | 0o777, name, Buffer.from(e.target));
      case 'char':
        return record(ino, S_IFCHR | (e.mode ?? 0o600), name, Buffer.alloc(0), [e.major, e.minor]);
    }
  });
  parts.push(record(0, 0, 'TRAILER!!!', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
