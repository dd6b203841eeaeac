import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageCache } from '../../src/images/index.js';
import { bookwormSources, hostMirrors } from '../../src/images/builders/apt-mirror.js';
import { qemuImgInfo } from '../../src/qemu-img.js';
import { createLogger } from '../../src/log.js';
import { REVISION, TEMPLATE, fixtureDir } from './support/virt-builder-fixture.js';

// The real virt-builder against a repository this test makes itself (template downloads are
// out of reach): a debootstrapped bookworm filesystem as raw.xz plus an index.
const log = createLogger('test:images-virt-builder');

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/** Template build script (runs as root): rootfs → ext4 raw → xz, with kernel/initrd beside it. */
const MAKE_TEMPLATE = `set -eu
out=$1; shift
root="$out/root"
rm -rf "$root"; mkdir -p "$root"
mmdebstrap --mode=root --variant=minbase \\
  --include=systemd-sysv,udev,linux-image-amd64,initramfs-tools,zstd \\
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \\
  --dpkgopt='path-exclude=/usr/share/locale/*' \\
  --customize-hook='echo "/dev/vda / ext4 defaults 0 1" > "$1/etc/fstab"; echo deb-local > "$1/etc/hostname"; : > "$1/etc/machine-id"' \\
  bookworm "$root" "$@"
cp "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)" "$out/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-* | sort -V | tail -n 1)" "$out/initrd"
rm -f "$out/${TEMPLATE}.raw" "$out/${TEMPLATE}.raw.xz"
truncate -s 1536M "$out/${TEMPLATE}.raw"
mkfs.ext4 -q -F -d "$root" "$out/${TEMPLATE}.raw"
rm -rf "$root"
xz -T2 -1 "$out/${TEMPLATE}.raw"
`;

async function makeTemplate(dir: string): Promise<void> {
  if (await exists(path.join(dir, 'index'))) return log.info('template fixture cached', { dir });
  log.info('building template fixture (mmdebstrap, ~2 min)', { dir });
  await fs.mkdir(dir, { recursive: true });
  await execa('sh', ['-c', MAKE_TEMPLATE, 'make-template', dir, ...bookwormSources(await hostMirrors())], { stdio: 'ignore' });
  const xz = await fs.stat(path.join(dir, `${TEMPLATE}.raw.xz`));
  const index = [
    `[${TEMPLATE}]`,
    'name=Debian 12 (demotool local test template)',
    'osinfo=debian12',
    'arch=x86_64',
    `file=${TEMPLATE}.raw.xz`,
    'format=raw',
    `size=${1536 * 2 ** 20}`,
    `compressed_size=${xz.size}`,
    `revision=${REVISION}`,
    '',
  ].join('\n');
  await fs.writeFile(path.join(dir, 'index'), index); // last: marks the fixture complete
}

/** A config dir whose repos.d holds only our local repository. */
async function localRepoEnv(tmp: string, fixture: string): Promise<Record<string, string>> {
  const config = path.join(tmp, 'config');
  await fs.mkdir(path.join(config, 'virt-builder', 'repos.d'), { recursive: true });
  await fs.writeFile(path.join(config, 'virt-builder', 'repos.d', 'local.conf'), `[local]\nuri=file://${fixture}/index\ngpgcheck=false\n`);
  // VIRT_BUILDER_DIRS replaces /etc/virt-builder, whose repos can't be reached offline.
  const sysDirs = path.join(tmp, 'no-system-repos');
  await fs.mkdir(sysDirs, { recursive: true });
  return { XDG_CONFIG_HOME: config, VIRT_BUILDER_DIRS: sysDirs };
}

/** Boot the image under TCG until first boot has run and powered the guest off. */
async function firstBoot(image: string, fixture: string, tmp: string): Promise<string> {
  const overlay = path.join(tmp, 'overlay.qcow2');
  const serial = path.join(tmp, 'serial.log');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'qcow2', overlay]);
  const qemu = execa(
    'qemu-system-x86_64',
    [
      '-machine',
      'accel=tcg',
      '-smp',
      '2',
      '-m',
      '1024',
      '-no-reboot',
      '-display',
      'none',
      '-kernel',
      path.join(fixture, 'vmlinuz'),
      '-initrd',
      path.join(fixture, 'initrd'),
      '-append',
      'root=/dev/vda rw console=ttyS0,115200',
      '-drive',
      `file=${overlay},if=virtio,format=qcow2`,
      '-serial',
      `file:${serial}`,
      '-nic',
      'none',
    ],
    { reject: false, timeout: 10 * 60_000 },
  );
  const started = Date.now();
  log.info('first boot: waiting for the guest to run firstboot and power off', { serial });
  try {
    const r = await qemu;
    log.info('first boot over', { seconds: Math.round((Date.now() - started) / 1000), exit: r.exitCode });
    const serialText = await fs.readFile(serial, 'utf8').catch(() => '');
    if (r.timedOut) throw new Error(`guest did not power off within 10 min; serial tail:\n${serialText.slice(-2000)}`);
    if (r.exitCode !== 0) throw new Error(`qemu exited with ${r.exitCode}: ${r.stderr}\nserial tail:\n${serialText.slice(-2000)}`);
    return overlay;
  } finally {
    qemu.kill('SIGKILL');
  }
}

/** Does `user`'s hash in shadow match `password`? (libcrypt via perl knows yescrypt and sha512.) */
async function passwordIs(shadow: string, user: string, password: string): Promise<boolean> {
  const hash = shadow.match(new RegExp(`^${user}:([^:]*):`, 'm'))?.[1] ?? '';
  if (!hash.startsWith('$')) return false;
  const r = await execa('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, hash]);
  return r.stdout === hash;
}

test('a virt-builder template becomes a qcow2 whose first boot creates demo in wheel', async () => {
  test.setTimeout(15 * 60_000);
  const fixture = fixtureDir();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-vb-'));
  try {
    await test.step('template fixture', () => makeTemplate(fixture));
    const cache = new ImageCache({ dir: path.join(tmp, 'images') });
    const env = await localRepoEnv(tmp, fixture);
    // The extra firstboot command runs after demotool's and turns the guest off, so the test knows it ran.
    const image = await test.step('ensure through the real virt-builder', () =>
      cache.ensure(`virt-builder:${TEMPLATE}`, { virtBuilder: { install: [], env, extraArgs: ['--no-cache', '--firstboot-command', 'poweroff'] } }));
    // A build of its own in the cache dir, under the template's name: {template}_{build id}.qcow2.
    expect(path.dirname(image.path)).toBe(cache.dir);
    expect(path.basename(image.path)).toMatch(new RegExp(`^${TEMPLATE.replace(/\./g, '\\.')}_\\d{8}-\\d{6}-[0-9a-f]{4}\\.qcow2$`));
    expect((await qemuImgInfo(image.path)).format).toBe('qcow2');
    expect(await cache.validate(`virt-builder:${TEMPLATE}`)).toEqual({ ok: true });
    expect(image.boot).toBeUndefined();
    expect(image.user).toEqual({ name: 'demo', password: 'demokudasaidomo' });

    // Before first boot, demo must not exist yet: it is the firstboot command that creates it.
    const vbEnv = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
    const before = await execa('virt-cat', ['-a', image.path, '/etc/passwd'], { env: vbEnv });
    expect(before.stdout).not.toMatch(/^demo:/m);

    const overlay = await test.step('first boot under qemu (TCG)', () => firstBoot(image.path, fixture, tmp));
    log.info('reading /etc/passwd, /etc/group, /etc/shadow from the booted overlay');
    const passwd = (await execa('virt-cat', ['-a', overlay, '/etc/passwd'], { env: vbEnv })).stdout;
    const group = (await execa('virt-cat', ['-a', overlay, '/etc/group'], { env: vbEnv })).stdout;
    const shadow = (await execa('virt-cat', ['-a', overlay, '/etc/shadow'], { env: vbEnv })).stdout;
    expect(passwd).toMatch(/^demo:x:\d+:\d+:[^:]*:\/home\/demo:\/bin\/bash$/m);
    expect(group).toMatch(/^wheel:x:\d+:(.*,)?demo(,.*)?$/m);
    expect(await passwordIs(shadow, 'demo', 'demokudasaidomo')).toBe(true);
    expect(await passwordIs(shadow, 'root', 'demokudasaidomo')).toBe(true);
    expect(await passwordIs(shadow, 'demo', 'wrong-password')).toBe(false);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
