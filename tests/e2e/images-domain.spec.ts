/**
 * An existing libvirt domain as an image (`domain:NAME`): the test defines its own domain (a
 * disk that boots tiny by syslinux, with an internal snapshot), boots it through demotool, and
 * checks that the domain's definition, its disk's content and its snapshots are as before. Bad
 * input (an unknown, a running or a paused domain, a missing or non-file disk) is refused before
 * any VM is defined.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDemo } from '../../src/index.js';
import { ImageCache } from '../../src/images/index.js';
import { libvirtUri } from '../../src/libvirt/index.js';
import { bootableDisk } from './support/bootable-disk.js';
import { domainImage } from '../../src/api/domain-source.js';
import { createLogger } from '../../src/log.js';
import { virshCommand, virshLog } from './support/virsh-log.js';
import { writeToGuestDisk } from './support/guest-disk.js';

test.describe.configure({ mode: 'serial', timeout: 8 * 60_000 });

const virsh = (...args: string[]) => execa('virsh', ['-q', '-c', libvirtUri(), ...args]);
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
const unique = () => `dt-test-src-${randomBytes(4).toString('hex')}`;

const getfattr = ['/usr/bin/getfattr', '/bin/getfattr'].find((p) => existsSync(p));
let work: string;
/** Every domain this file defines: undefined (and stopped) in afterAll. */
const defined: string[] = [];

function domainXml(name: string, disk: { file: string; format: 'qcow2' | 'raw'; type?: 'file' | 'block' }, legacy = false): string {
  const source = disk.type === 'block' ? `<source dev='${disk.file}'/>` : `<source file='${disk.file}'/>`;
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>384</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <clock offset='${legacy ? 'localtime' : 'utc'}'/>
  <devices>
    <disk type='${disk.type ?? 'file'}' device='disk'>
      <driver name='qemu' type='${disk.format}'/>
      ${source}
      <target dev='${legacy ? 'hda' : 'vda'}' bus='${legacy ? 'ide' : 'virtio'}'/>
    </disk>
${legacy ? "    <interface type='user'><model type='rtl8139'/></interface>\n" : ''}    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
`;
}

async function define(name: string, disk: Parameters<typeof domainXml>[1], legacy = false): Promise<void> {
  const file = path.join(work, `${name}.xml`);
  await fs.writeFile(file, domainXml(name, disk, legacy));
  defined.push(name);
  await virsh('define', file);
}

/** What must stay as it was: the definition, the disk's bytes, owner, mode and extended attributes, the snapshots (libvirt's and qcow2's own). */
async function sourceState(name: string, disk: string) {
  const st = await fs.stat(disk);
  return {
    xml: (await virsh('dumpxml', name)).stdout,
    inactiveXml: (await virsh('dumpxml', '--inactive', name)).stdout,
    sha256: await sha256(disk),
    owner: `${st.uid}:${st.gid} ${st.mode.toString(8)}`,
    // libvirt may label the files a VM uses (remembering the owner in xattrs): none may stay behind.
    xattrs: getfattr ? (await execa(getfattr, ['-d', '-m', '-', '--absolute-names', disk])).stdout : 'getfattr (package attr) not installed',
    snapshots: (await virsh('snapshot-list', name, '--name')).stdout,
    qcow2Snapshots: (await execa('qemu-img', ['snapshot', '-U', '-l', disk])).stdout,
    state: (await virsh('domstate', name)).stdout.trim(),
  };
}

test.beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-domain-'));
});

test.afterAll(async () => {
  for (const name of defined) {
    await virsh('destroy', name).catch(() => undefined);
    for (const snap of (await virsh('snapshot-list', name, '--name').catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean))
      await virsh('snapshot-delete', name, snap, '--metadata').catch(() => undefined);
    await virsh('undefine', name).catch(() => undefined);
  }
  await fs.rm(work, { recursive: true, force: true });
});

test('a shut-off domain boots as domain:NAME through an overlay on its own disk; its definition, disk and snapshots are untouched', async ({}, info) => {
  const name = unique();
  const disk = await bootableDisk(work, 'qcow2');
  await define(name, { file: disk, format: 'qcow2' });
  await virsh('snapshot-create-as', name, 'golden', 'before demotool');
  const before = await sourceState(name, disk);
  expect(before.snapshots.trim()).toBe('golden');
  expect(before.qcow2Snapshots).toMatch(/golden/);
  expect(before.state).toBe('shut off');

  const dir = path.join(work, 'cache');
  const imageCache = new ImageCache({ dir });
  let vmName = '';
  await startDemo('domain-src', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
    demo.vm(`domain:${name}`, { accel: 'tcg' }, async (vm) => {
      vmName = vm.name;
      expect(vm.started).toBe('cold');
      expect(vm.image).toMatchObject({ name: `domain-${name}`, path: disk, format: 'qcow2' });
      expect(vm.image.boot).toBeUndefined();
      // Not a copy: our VM's overlay stands directly on the domain's disk.
      const running = (await virsh('dumpxml', vm.name)).stdout;
      expect(running).toMatch(new RegExp(`<backingStore type='file'[^>]*>\\s*<format type='qcow2'/>\\s*<source file='${disk.replace(/[.]/g, '\\.')}'`));
      // QEMU holds the domain's disk open read-only (its fd's flags have no O_WRONLY/O_RDWR bit).
      const flags = await openFlags(vm.name, disk);
      expect(flags.length).toBeGreaterThan(0);
      expect(flags.map((f) => parseInt(f, 8) & 3)).toEqual(flags.map(() => 0));
      // The domain's memory (384 MiB) and vCPU count were the defaults.
      expect(running).toMatch(/<memory unit='KiB'>393216<\/memory>/);
      expect(running).toMatch(/<vcpu placement='static'>1<\/vcpu>/);
      // The image's readiness was a settled screen (no marker): wait for tiny's shell itself.
      await vm.waitForSerial('DEMOTOOL-READY', { timeout: 180_000 });
      await vm.waitForStableScreen({ duration: 1000 });
      await writeToGuestDisk(vm, 30_000);
      // While our VM stands on it, QEMU's lock keeps the domain itself from starting and writing its disk.
      const start = await virsh('start', name).catch((e: { stderr: string }) => e);
      expect((start as { stderr: string }).stderr).toMatch(/lock/i);
    }),
  );
  expect((await virsh('list', '--all', '--name')).stdout).not.toContain(vmName);
  const after = await sourceState(name, disk);
  expect(after).toEqual(before);
  // The boot wrote its start of the disk into its overlay only: the domain's disk still starts with FAT's boot sector.
  expect((await execa('qemu-img', ['dd', '-U', '-f', 'qcow2', '-O', 'raw', `if=${disk}`, `of=${path.join(work, 'head')}`, 'bs=512', 'count=1'])).exitCode).toBe(
    0,
  );
  expect(readFileSync(path.join(work, 'head')).subarray(0, 14).toString()).not.toBe('guest-was-here');
  // The cache recorded it (a sidecar pointing at the disk) and lists it.
  const listed = (await imageCache.list()).find((i) => i.name === `domain-${name}`);
  expect(listed).toMatchObject({ source: `domain:${name}`, path: disk, sizeBytes: (await fs.stat(disk)).size });
  expect(readdirNames(dir)).toEqual([`domain-${name}.json`]);
});

test('an old guest (raw disk on IDE, rtl8139, local-time clock) gets legacy-windows with its own devices; options given win', async ({}, info) => {
  const name = unique();
  const disk = await bootableDisk(work, 'raw');
  await define(name, { file: disk, format: 'raw' }, true);
  const before = await sourceState(name, disk);
  const imageCache = new ImageCache({ dir: path.join(work, 'cache-legacy') });
  await startDemo('domain-legacy', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
    demo.vm(`domain:${name}`, { accel: 'tcg', resources: { memoryMiB: 512 } }, async (vm) => {
      const xml = (await virsh('dumpxml', vm.name)).stdout;
      expect(xml).toMatch(/<target dev='hda' bus='ide'\/>/);
      expect(xml).toMatch(/<clock offset='localtime'\/>/);
      expect(xml).toMatch(/rtl8139,netdev=dtnet0/);
      expect(xml).not.toMatch(/virtio/);
      expect(xml).toMatch(/<format type='raw'\/>\s*<source file='[^']*bootable-raw\.raw'/);
      expect(xml).toMatch(/<memory unit='KiB'>524288<\/memory>/);
      // The guest really runs on them: its disk is sda through ata_piix.
      await vm.waitForSerial('DEMOTOOL-READY', { timeout: 180_000 });
      await vm.waitForStableScreen({ duration: 1000 });
      for (let attempt = 1; ; attempt++) {
        const from = vm.serial.mark();
        await vm.keyboard.type('echo DISK-$(ls /sys/block | grep sd) > /dev/ttyS0\n', { delay: 0 });
        const seen = await vm.waitForSerial('DISK-sda', { from, timeout: 30_000 }).then(
          () => true,
          (e: unknown) => (attempt < 3 ? false : Promise.reject(e)),
        );
        if (seen) break;
      }
    }),
  );
  expect(await sourceState(name, disk)).toEqual(before);

  // The options win over what the domain has: named hardware and resources are the user's.
  const chosen = await domainImage(
    imageCache,
    `domain:${name}`,
    { hardware: 'modern-linux', resources: { cpus: 1, memoryMiB: 256 }, start: 'warm' },
    createLogger('t'),
  );
  expect(chosen.options).toMatchObject({ hardware: 'modern-linux', resources: { cpus: 1, memoryMiB: 256 }, start: 'cold' });
  const given = await domainImage(imageCache, `domain:${name}`, { video: 'virtio' }, createLogger('t'));
  expect(given.options.hardware).toEqual({ profile: 'legacy-windows', disk: 'ide', nic: 'rtl8139', clock: 'localtime' });
  expect(given.image).toMatchObject({ hardware: 'legacy-windows', memoryMiB: 384, format: 'raw' });
});

/** The open flags (octal, /proc/PID/fdinfo) of each fd the VM's QEMU holds on `file`. */
async function openFlags(vmName: string, file: string): Promise<string[]> {
  let pid = '';
  for (const p of (await fs.readdir('/proc')).filter((e) => /^\d+$/.test(e)))
    if ((await fs.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).includes(`guest=${vmName},`)) pid = p;
  if (!pid) throw new Error(`no QEMU process of ${vmName}`);
  const flags: string[] = [];
  for (const fd of await fs.readdir(`/proc/${pid}/fd`)) {
    if ((await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) !== file) continue;
    flags.push(/flags:\s*([0-7]+)/.exec(await fs.readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!);
  }
  return flags;
}

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.endsWith('.lock')) : [];
}

const badInputs: { what: string; make: (name: string) => Promise<void>; code: string; message: RegExp }[] = [
  {
    what: 'an unknown domain',
    // Another domain is there, so the error lists it.
    make: (name) => define(`${name}-other`, { file: path.join(work, 'other.qcow2'), format: 'qcow2' }),
    code: 'EDOMAINUNKNOWN',
    message: /no libvirt domain named dt-test-src-\w+ .*domains there: .*dt-test-src-\w+-other/,
  },
  {
    what: 'a paused (running) domain',
    make: async (name) => {
      await define(name, { file: await bootableDisk(await fs.mkdtemp(path.join(work, 'p-')), 'raw'), format: 'raw' });
      await virsh('start', '--paused', name);
    },
    code: 'EDOMAINRUNNING',
    message: /is paused: its disk changes under a VM/,
  },
  {
    what: 'a shut-off domain whose disk a running domain uses',
    make: async (name) => {
      const disk = await bootableDisk(await fs.mkdtemp(path.join(work, 's-')), 'raw');
      await define(`${name}-user`, { file: disk, format: 'raw' });
      await virsh('start', '--paused', `${name}-user`);
      await define(name, { file: disk, format: 'raw' });
    },
    code: 'EDOMAINRUNNING',
    message: /is in use by the running domain dt-test-src-\w+-user/,
  },
  {
    what: 'a domain whose disk is missing',
    make: (name) => define(name, { file: path.join(work, 'gone.qcow2'), format: 'qcow2' }),
    code: 'EDOMAINDISK',
    message: /gone\.qcow2 is missing/,
  },
  {
    what: 'a domain whose disk is a block device',
    make: (name) => define(name, { file: '/dev/null', format: 'raw', type: 'block' }),
    code: 'EDOMAINDISK',
    message: /first disk is not a file \(type block\)/,
  },
];

for (const bad of badInputs) {
  test(`${bad.what} is refused with a clear error before any VM is defined`, async ({}, info) => {
    const name = unique();
    await bad.make(name);
    const dir = path.join(work, `cache-${name}`);
    const imageCache = new ImageCache({ dir });
    const runFiles = async () =>
      (await fs.readdir(path.join(os.homedir(), '.cache', 'demotool', 'run')).catch(() => [] as string[])).filter((f) => f.includes('domain-bad'));
    const log = virshLog();
    let error: unknown;
    try {
      error = await startDemo('domain-bad', { outputDir: info.outputPath('v'), imageCache }, (demo) =>
        demo.vm(`domain:${name}`, { accel: 'tcg' }, async () => undefined),
      ).catch((e: unknown) => e);
    } finally {
      log.restore();
    }
    expect(error).toMatchObject({ code: bad.code });
    expect(String((error as Error).message)).toMatch(bad.message);
    expect((error as { hint?: string }).hint).toBeTruthy();
    // The command word: another worker's demo-warm-start-… VM has "start" in its name.
    expect(log.calls().filter((c) => ['define', 'create', 'start'].includes(virshCommand(c) ?? ''))).toEqual([]);
    // Nothing recorded, no overlay or other file of a VM.
    expect(readdirNames(dir)).toEqual([]);
    expect(await runFiles()).toEqual([]);
  });
}

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false, env: { ...process.env, ...env } });

test('images import domain:NAME records it without a copy; list shows it; remove and prune never delete the disk', async () => {
  const name = unique();
  const disk = await bootableDisk(await fs.mkdtemp(path.join(work, 'i-')), 'raw');
  await define(name, { file: disk, format: 'raw' }, true);
  const before = await sourceState(name, disk);
  const env = { XDG_CACHE_HOME: path.join(work, 'xdg') };
  const dir = path.join(work, 'xdg', 'demotool', 'images');

  const imported = await cli(env, 'images', 'import', `domain:${name}`);
  expect(imported.exitCode, imported.stderr).toBe(0);
  expect(imported.stdout.trim()).toBe(`domain:${name}`);
  expect(imported.stderr).toContain(`domain-${name}: ${disk} (raw, never copied), legacy-windows, 384 MiB, 1 vCPUs`);
  expect(readdirNames(dir)).toEqual([`domain-${name}.json`]);

  const list = await cli(env, 'images', 'list');
  const today = new Date().toISOString().slice(0, 10);
  expect(list.stdout).toMatch(new RegExp(`^domain-${name}\\s+64\\.0 MiB\\s+${today} \\d\\d:\\d\\d\\s+legacy-windows\\s+domain:${name}\\s+${disk}$`, 'm'));

  // Booting the entry's cache name is refused: only domain:NAME checks the domain first.
  await expect(new ImageCache({ dir }).ensure(`domain-${name}`)).rejects.toMatchObject({ code: 'EUSAGE', message: new RegExp(`domain:${name}`) });

  const removed = await cli(env, 'images', 'remove', `domain:${name}`);
  expect(removed.exitCode, removed.stderr).toBe(0);
  expect(readdirNames(dir)).toEqual([]);
  expect(await sourceState(name, disk)).toEqual(before);

  // Unused for 40 days: prune forgets the entry, never the disk.
  expect((await cli(env, 'images', 'import', `domain:${name}`)).exitCode).toBe(0);
  const old = new Date(Date.now() - 40 * 86_400_000);
  await fs.utimes(path.join(dir, `domain-${name}.json`), old, old);
  const pruned = await cli(env, 'images', 'prune', '--unused-for', '30d');
  expect(pruned.stdout.trim()).toBe(`removed domain-${name}`);
  expect(readdirNames(dir)).toEqual([]);
  expect(await sourceState(name, disk)).toEqual(before);

  // An unknown domain: the CLI says so, and records nothing.
  const unknown = await cli(env, 'images', 'import', 'domain:dt-test-src-nope');
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr).toMatch(/no libvirt domain named dt-test-src-nope/);
  expect(readdirNames(dir)).toEqual([]);
});
