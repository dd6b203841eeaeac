/**
 * ISO images (`file:PATH` of an ISO 9660 file, `demotool images import FILE.iso`): a bootable ISO
 * made by grub-mkrescue from tiny's kernel and initrd boots from a read-only CD-ROM, with or
 * without a blank disk; bad input is refused before any VM is defined. Needs grub-mkrescue
 * (grub-common, grub-pc-bin), xorriso and mtools (`npm run setup` installs them).
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDemo, type Vm } from '../../src/index.js';
import { UsageError } from '../../src/errors.js';
import { ImageCache, ImageValidationError } from '../../src/images/index.js';
import { runDir } from '../../src/api/internal.js';
import { libvirtUri } from '../../src/libvirt/index.js';
import { domains, runFiles } from './support/host.js';
import { virshLog } from './support/virsh-log.js';

test.describe.configure({ timeout: 6 * 60_000 });

let work: string;
let dir: string;
test.beforeEach(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-iso-'));
  // Never the shared cache: it is only read, for tiny's kernel and initrd.
  dir = path.join(work, 'cache', 'demotool', 'images');
});
test.afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

/** Only the ISO's own GRUB menu puts this on the kernel's command line: seen in the guest, the CD was the boot medium. */
const FROM_CD = 'demotool.booted-from=grub-cd';

/** A bootable ISO (GRUB for BIOS, by grub-mkrescue) holding tiny's kernel and initrd, with tiny's command line (its serial console included). */
async function bootableIso(name = 'tiny-live.iso'): Promise<string> {
  const tiny = await new ImageCache().ensure('tiny');
  const cmdline = tiny.boot!.cmdline;
  expect(cmdline).toContain('console=ttyS0,115200');
  const root = path.join(work, 'iso-root');
  await fs.mkdir(path.join(root, 'boot', 'grub'), { recursive: true });
  await fs.copyFile(tiny.boot!.kernel, path.join(root, 'boot', 'vmlinuz'));
  await fs.copyFile(tiny.boot!.initrd, path.join(root, 'boot', 'initrd'));
  await fs.writeFile(
    path.join(root, 'boot', 'grub', 'grub.cfg'),
    `set timeout=0\nset default=0\nmenuentry tiny {\n  linux /boot/vmlinuz ${cmdline} ${FROM_CD}\n  initrd /boot/initrd\n}\n`,
  );
  const iso = path.join(work, name);
  await execa('grub-mkrescue', ['-o', iso, root]);
  return iso;
}

/** Types a shell command on tiny's console until its answer (a line starting with `tag`) comes back on the serial port. */
async function ask(vm: Vm, command: string, tag: string): Promise<string> {
  await vm.waitForSerial('DEMOTOOL-READY', { timeout: 180_000 });
  await vm.waitForStableScreen({ duration: 1000 });
  // Keys typed while the console's shell is still starting are lost on a loaded host: type again.
  for (let attempt = 1; ; attempt++) {
    const from = vm.serial.mark();
    await vm.keyboard.type(`${command} > /dev/ttyS0\n`, { delay: 0 });
    const line = await vm.waitForSerial(new RegExp(`${tag}[^\\r\\n]*`), { from, timeout: 20_000 }).then(
      (m) => m[0],
      (e: unknown) => (attempt < 3 ? undefined : Promise.reject(e)),
    );
    if (line) return line;
  }
}

const domainXml = async (name: string) => (await execa('virsh', ['-c', libvirtUri(), 'dumpxml', name])).stdout;

test('an ISO boots from a read-only CD-ROM with a blank disk of the asked size, made and removed with the VM', async ({}, info) => {
  const iso = await bootableIso();
  const before = await sha256(iso);
  const imageCache = new ImageCache({ dir });
  let blankDisk = '';
  let cached = '';
  await startDemo('iso-blank', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
    demo.vm(`file:${iso}`, { accel: 'tcg', resources: { memoryMiB: 512 }, blankDisk: '64M' }, async (vm) => {
      // Cached once by content, read-only; the VM boots the cache's copy.
      expect(vm.image.name).toBe(`iso-${before.slice(0, 16)}`);
      expect(vm.image.cdrom).toBe(path.join(dir, `${vm.image.name}.iso`));
      expect(vm.image.boot).toBeUndefined();
      cached = vm.image.cdrom!;
      expect((await fs.stat(cached)).mode & 0o777).toBe(0o444);
      // ISO VMs boot cold: there is no saved boot with a CD.
      expect(vm.started).toBe('cold');

      const xml = await domainXml(vm.name);
      const cd = /<disk type='file' device='cdrom'>[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? '';
      expect(cd).toContain(`<source file='${cached}'`);
      expect(cd).toContain('<readonly/>');
      expect(cd).toMatch(/<target dev='sda' bus='sata'\/>/);
      expect(xml).toMatch(/<boot dev='cdrom'\/>\s*<boot dev='hd'\/>/);
      expect(xml).not.toContain('<kernel>');
      blankDisk = path.join(runDir(), `${vm.name}.qcow2`);
      expect(xml).toContain(`<source file='${blankDisk}'`);
      const info = JSON.parse((await execa('qemu-img', ['info', '-U', '--output=json', blankDisk])).stdout) as Record<string, unknown>;
      expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 64 * 2 ** 20 });
      expect(info['backing-filename']).toBeUndefined();

      // In the guest: the blank disk is vda, 64 MiB (131072 sectors), and the kernel came from the CD's GRUB.
      const answer = await ask(
        vm,
        `echo SEEN-vda=$(cat /sys/block/vda/size)-cd=$(grep -o 'demotool.booted-from=[a-z-]*' /proc/cmdline)-blocks=$(ls /sys/block | tr '\\n' ,)`,
        'SEEN-',
      );
      expect(answer).toContain(`SEEN-vda=131072-cd=${FROM_CD}-`);
      // The blank disk holds snapshots, as an overlay does (the read-only CD is left out of them).
      await vm.snapshot('booted');
      expect((await vm.snapshots()).map((x) => x.name)).toEqual(['booted']);
      await vm.revert('booted');
    }),
  );
  expect(existsSync(blankDisk)).toBe(false);
  expect(await sha256(iso)).toBe(before);
  expect(await sha256(cached)).toBe(before);
});

test('without blankDisk the VM has only its CD: no disk in the domain, none in the guest', async ({}, info) => {
  const iso = await bootableIso();
  const imageCache = new ImageCache({ dir });
  await startDemo('iso-cd-only', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
    demo.vm(`file:${iso}`, { accel: 'tcg', resources: { memoryMiB: 512 } }, async (vm) => {
      const xml = await domainXml(vm.name);
      expect(xml.match(/<disk /g)).toHaveLength(1);
      expect(xml).toContain("device='cdrom'");
      expect(existsSync(path.join(runDir(), `${vm.name}.qcow2`))).toBe(false);
      const answer = await ask(vm, `echo DISKS-$(ls /sys/block | grep -c '^[vsh]d')-cd=$(grep -o 'demotool.booted-from=[a-z-]*' /proc/cmdline)`, 'DISKS-');
      expect(answer).toContain(`DISKS-0-cd=${FROM_CD}`);
      // QEMU holds the cached ISO open: it can't be removed under the VM.
      await expect(imageCache.remove(vm.image.name)).rejects.toMatchObject({ code: 'EIMAGEINUSE' });
      // Nothing to keep a snapshot in: a clear error instead of libvirt's.
      const refused = await vm.snapshot('none').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UsageError);
      expect((refused as UsageError).message).toMatch(/boots an ISO and has no disk to keep a snapshot in/);
      expect((refused as UsageError).hint).toMatch(/blankDisk/);
    }),
  );
  // The same ISO again is the same cached image, not copied again.
  const again = await imageCache.ensure(`file:${iso}`);
  expect(again.name).toBe(`iso-${(await sha256(iso)).slice(0, 16)}`);
  expect((await imageCache.list()).map((i) => i.name)).toEqual([again.name]);
});

test('a failed boot removes the blank disk with the VM', async ({}, info) => {
  const iso = await bootableIso();
  const imageCache = new ImageCache({ dir });
  const error = await startDemo('iso-fails', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
    demo.vm(`file:${iso}`, { accel: 'tcg', resources: { memoryMiB: 512 }, blankDisk: '64M', bootTimeout: 1500 }, async () => undefined),
  ).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'EBOOTTIMEOUT' });
  const vm = /VM (demo-iso-fails-[a-z0-9]+) /.exec((error as Error).message)?.[1];
  expect(vm).toBeTruthy();
  expect(await domains()).not.toContain(vm);
  expect(runFiles(vm!)).toEqual([]);
});

test('Ctrl-C (SIGINT) mid-boot removes the VM and its blank disk', async ({}, info) => {
  const iso = await bootableIso();
  // Imported first, so the run defines its VM at once.
  await new ImageCache({ dir }).ensure(`file:${iso}`);
  const script = path.join(import.meta.dirname, 'support', 'boot-iso.ts');
  const child = execa(process.execPath, ['--import', 'tsx', script, 'iso-interrupted', iso, dir], {
    reject: false,
    all: true,
    env: { OUT_DIR: info.outputPath('v'), TEST_PARALLEL_INDEX: '' },
  });
  let vm: string | undefined;
  for (let i = 0; i < 600 && !vm; i++) {
    vm = (await domains()).find((d) => d.startsWith('demo-iso-interrupted-'));
    if (!vm) await new Promise((r) => setTimeout(r, 100));
  }
  if (!vm) child.kill('SIGKILL');
  expect(vm, 'the run never defined its VM').toBeTruthy();
  // The blank disk is there while the VM is.
  expect(runFiles(vm!)).toContain(`${vm}.qcow2`);
  child.kill('SIGINT');
  const result = await child;
  expect(result.all).toContain('signal received');
  expect(result.all).not.toContain('READY');
  expect(await domains()).not.toContain(vm);
  expect(runFiles(vm!)).toEqual([]);
});

const domainNames = async () => (await execa('virsh', ['-c', libvirtUri(), 'list', '--all', '--name'])).stdout.split('\n').filter(Boolean);

const badInputs: { what: string; image: () => Promise<string>; options?: object; error: typeof UsageError | typeof ImageValidationError; message: RegExp }[] = [
  { what: 'a missing ISO', image: async () => `file:${path.join(work, 'nope.iso')}`, error: UsageError, message: /ISO file .*nope\.iso does not exist/ },
  {
    what: 'a truncated ISO',
    image: async () => {
      const iso = await bootableIso('cut.iso');
      await fs.truncate(iso, (await fs.stat(iso)).size - 1024 * 1024);
      return `file:${iso}`;
    },
    error: ImageValidationError,
    message: /truncated: its volume is \d+ bytes, the file only \d+/,
  },
  {
    what: 'an .iso without CD001',
    image: async () => {
      const iso = await bootableIso('nomagic.iso');
      const handle = await fs.open(iso, 'r+');
      await handle.write(Buffer.from('XXXXX'), 0, 5, 0x8001);
      await handle.close();
      return `file:${iso}`;
    },
    error: ImageValidationError,
    message: /no ISO 9660 volume descriptor \(no CD001 at byte 0x8001\)/,
  },
  {
    what: 'a bad blankDisk size',
    image: async () => `file:${await bootableIso()}`,
    options: { blankDisk: '2 gallons' },
    error: UsageError,
    message: /blankDisk "2 gallons" is not a disk size/,
  },
  {
    what: 'a blankDisk too small',
    image: async () => `file:${await bootableIso()}`,
    options: { blankDisk: 4096 },
    error: UsageError,
    message: /a blank disk is from 1 MiB/,
  },
  {
    what: 'a blankDisk for a disk image',
    image: async () => 'tiny',
    options: { blankDisk: '1G' },
    error: UsageError,
    message: /blankDisk is for ISO images; tiny boots from a disk of its own/,
  },
];

for (const bad of badInputs) {
  test(`${bad.what} is refused clearly before any VM is defined`, async ({}, info) => {
    const image = await bad.image();
    // The built-in tiny from the shared cache (only read); anything else into a cache of the test's own.
    const imageCache = image === 'tiny' ? new ImageCache() : new ImageCache({ dir });
    const domainsBefore = await domainNames();
    const virsh = virshLog();
    let error: unknown;
    try {
      error = await startDemo('bad-iso', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
        demo.vm(image, { accel: 'tcg', ...bad.options }, async () => undefined),
      ).catch((e: unknown) => e);
    } finally {
      virsh.restore();
    }
    expect(error).toBeInstanceOf(bad.error);
    expect(String((error as Error).message)).toMatch(bad.message);
    expect((error as UsageError).hint).toBeTruthy();
    expect(virsh.calls()).toEqual([]);
    expect((await domainNames()).filter((d) => d.startsWith('demo-bad-iso-') && !domainsBefore.includes(d))).toEqual([]);
    if (image !== 'tiny') expect(await new ImageCache({ dir }).list()).toEqual([]);
  });
}

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false, env: { ...process.env, ...env } });

test('images import FILE.iso prints the name to use, and images list shows the source as an ISO with its size', async () => {
  const env = { XDG_CACHE_HOME: path.join(work, 'cache') };
  const iso = await bootableIso();
  const imported = await cli(env, 'images', 'import', iso);
  expect(imported.exitCode, imported.stderr).toBe(0);
  const name = imported.stdout.trim();
  expect(name).toBe(`iso-${(await sha256(iso)).slice(0, 16)}`);
  expect(JSON.parse(await fs.readFile(path.join(dir, `${name}.json`), 'utf8'))).toMatchObject({
    builder: 'iso',
    iso: `${name}.iso`,
    source: { path: iso, sha256: await sha256(iso), format: 'iso', sizeBytes: (await fs.stat(iso)).size },
  });
  expect((await new ImageCache({ dir }).ensure(name)).cdrom).toBe(path.join(dir, `${name}.iso`));

  const list = await cli(env, 'images', 'list');
  expect(list.exitCode, list.stderr).toBe(0);
  const mib = ((await fs.stat(iso)).size / 2 ** 20).toFixed(1);
  expect(list.stdout).toMatch(
    new RegExp(`^${name}\\s+${mib.replace('.', '\\.')} MiB\\s+\\S+ \\S+\\s+-\\s+ISO ${iso.replace(/[.]/g, '\\.')}\\s+${dir}/${name}\\.iso$`, 'm'),
  );

  // A corrupt one: a clear error, nothing in the cache.
  const cut = path.join(work, 'cut.iso');
  await fs.writeFile(cut, (await fs.readFile(iso)).subarray(0, 64 * 1024));
  const refused = await cli(env, 'images', 'import', cut);
  expect(refused.exitCode).not.toBe(0);
  expect(refused.stderr).toMatch(/truncated/);
  expect((await fs.readdir(dir)).filter((f) => f.endsWith('.json'))).toEqual([`${name}.json`]);
});
