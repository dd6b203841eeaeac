import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { domainXml } from '../../src/libvirt/domain-xml.js';
import { currentOwner, ownerFilePath, writeOwnerFile, type OwnerRecord } from '../../src/libvirt/owner.js';
import { filesOf, isIn, removeStaleVms } from '../../src/libvirt/stale.js';
import { Virsh } from '../../src/libvirt/virsh.js';
import { createLogger } from '../../src/log.js';

// A fake virsh on PATH: each domain is <state>/<name>.xml; every call is logged to <state>/calls.log.
// A <name>.fail file makes destroy and undefine of that domain fail.
const FAKE_VIRSH = `#!/bin/sh
dir="$FAKE_VIRSH_STATE"
echo "$*" >> "$dir/calls.log"
while [ $# -gt 0 ]; do case "$1" in -q) shift;; -c) shift 2;; *) break;; esac; done
cmd=$1; shift
ref() {
  for f in "$dir"/*.xml; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .xml)
    if [ "$n" = "$1" ] || grep -q "<uuid>$1</uuid>" "$f"; then echo "$n"; return 0; fi
  done
  echo "error: failed to get domain '$1'" >&2; return 1
}
case $cmd in
  list) for f in "$dir"/*.xml; do [ -e "$f" ] && basename "$f" .xml; done; exit 0;;
  dumpxml) n=$(ref "$1") || exit 1; cat "$dir/$n.xml";;
  destroy) n=$(ref "$1") || exit 1; [ ! -e "$dir/$n.fail" ];;
  undefine) n=$(ref "$1") || exit 1; [ -e "$dir/$n.fail" ] && exit 1; rm "$dir/$n.xml";;
  dominfo|domid) ref "$1" >/dev/null;;
  *) echo "fake virsh: $cmd is not faked" >&2; exit 1;;
esac
`;

let root: string;
let state: string;
let run: string;
let savedPath: string | undefined;
let deadPid: number;
const URI = 'test:///fake';

test.beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'stale-sweep-'));
  const bin = path.join(root, 'bin');
  await fs.mkdir(bin);
  await fs.writeFile(path.join(bin, 'virsh'), FAKE_VIRSH, { mode: 0o755 });
  savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${process.env.PATH}`;
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  deadPid = child.pid!;
});

test.afterAll(async () => {
  process.env.PATH = savedPath;
  await fs.rm(root, { recursive: true, force: true });
});

test.beforeEach(async ({}, info) => {
  state = path.join(root, `state-${info.testId}`);
  run = path.join(root, `run-${info.testId}`);
  await fs.mkdir(state, { recursive: true });
  await fs.mkdir(run, { recursive: true });
  process.env.FAKE_VIRSH_STATE = state;
});

const virsh = () => new Virsh({ uri: URI, log: createLogger('test') });
const sweep = () => removeStaleVms(virsh(), { runDir: run, log: createLogger('test') });
const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

function deadOwner(overlay: string, extra: Partial<OwnerRecord> = {}): OwnerRecord {
  return { ...currentOwner({ overlay, image: 'tiny' }), pid: deadPid, ...extra };
}

/** A domain in the fake libvirt, in the form libvirt writes back (double quotes), and its files in the run dir. */
async function domain(name: string, owner: OwnerRecord, files = ['qcow2', 'serial.log', 'msg.sock'], uuid = `uuid-${name}`) {
  await fs.mkdir(path.join(run, 'vnc'), { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(run, 'vnc', `${name}.sock`), '');
  const xml = domainXml({
    name,
    uuid,
    disk: owner.overlay,
    memoryMiB: 64,
    cpus: 1,
    accel: 'tcg',
    serialLog: path.join(run, `${name}.serial.log`),
    guestAgent: false,
    network: 'closed',
    vnc: { socket: path.join(run, 'vnc', `${name}.sock`) },
    owner,
  });
  await fs.writeFile(
    path.join(state, `${name}.xml`),
    xml.replace(/='([^']*)'/g, (_, v: string) => `="${v.replace(/&apos;/g, "'")}"`),
  );
  for (const suffix of files) await fs.writeFile(path.join(run, `${name}.${suffix}`), 'x');
}

async function calls(): Promise<string[]> {
  return (await fs.readFile(path.join(state, 'calls.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

test('a dead owner: the VM is removed by UUID with its files in the run directory; live and foreign owners are left alone', async () => {
  await domain('demo-dead', deadOwner(path.join(run, 'demo-dead.qcow2')));
  await domain('demo-alive', currentOwner({ overlay: path.join(run, 'demo-alive.qcow2'), image: 'tiny' }));
  await domain('demo-reused', { ...currentOwner({ overlay: path.join(run, 'demo-reused.qcow2'), image: 'tiny' }), pidStart: '1' });
  await domain('demo-container', deadOwner(path.join(run, 'demo-container.qcow2'), { pidNamespace: 'pid:[4026599999]' }));
  await domain('demo-otherhost', deadOwner(path.join(run, 'demo-otherhost.qcow2'), { hostname: 'elsewhere' }));
  await fs.writeFile(path.join(state, 'unrelated.xml'), '<domain><name>unrelated</name></domain>');

  const removed = await sweep();
  expect(removed.sort()).toEqual(['demo-dead', 'demo-reused']);
  const left = await fs.readdir(run);
  expect(left.filter((f) => f.startsWith('demo-dead') || f.startsWith('demo-reused'))).toEqual([]);
  expect((await fs.readdir(path.join(run, 'vnc'))).sort()).toEqual(['demo-alive.sock', 'demo-container.sock', 'demo-otherhost.sock']);
  for (const vm of ['demo-alive', 'demo-container', 'demo-otherhost']) {
    expect(left).toContain(`${vm}.qcow2`);
    expect(await exists(path.join(state, `${vm}.xml`))).toBe(true);
  }
  const log = await calls();
  expect(log).toContain(`-q -c ${URI} destroy uuid-demo-dead`);
  expect(log.some((c) => c.includes('destroy demo-dead'))).toBe(false);
  expect(log.some((c) => /destroy|undefine/.test(c) && /alive|container|otherhost|unrelated/.test(c))).toBe(false);
});

test('an overlay path with quotes: the real overlay goes, no file at a truncated path', async () => {
  const overlay = path.join(run, `it's "odd" & <so>.qcow2`);
  await fs.writeFile(overlay, 'x');
  const truncated = path.join(run, 'it');
  await fs.writeFile(truncated, 'not ours');
  await domain('demo-quotes', deadOwner(overlay), []);
  expect(await sweep()).toEqual(['demo-quotes']);
  expect(await exists(overlay)).toBe(false);
  expect(await exists(truncated)).toBe(true);
});

test('only paths in the run directory are deleted', async () => {
  const outside = path.join(root, `outside-${Date.now()}.qcow2`);
  await fs.writeFile(outside, 'not ours');
  await domain('demo-out', deadOwner(outside));
  await domain('demo-up', deadOwner(path.join(run, '..', path.basename(outside))));
  expect((await sweep()).sort()).toEqual(['demo-out', 'demo-up']);
  expect(await exists(outside)).toBe(true);
  expect(await fs.readdir(run)).toEqual(['vnc']);
  expect(await fs.readdir(path.join(run, 'vnc'))).toEqual([]);
  expect(isIn(run, path.join(run, 'a.qcow2'))).toBe(true);
  expect(isIn(run, path.join(run, 'sub', 'a.qcow2'))).toBe(false);
  expect(isIn(run, run)).toBe(false);
  expect(isIn(run, `${run}/../x`)).toBe(false);
});

test('an rm error is logged and the sweep goes on', async () => {
  await domain('demo-a-first', deadOwner(path.join(run, 'demo-a-first.qcow2')), ['serial.log']);
  // A directory where the overlay should be: rm fails on it.
  await fs.mkdir(path.join(run, 'demo-a-first.qcow2'));
  await domain('demo-b-second', deadOwner(path.join(run, 'demo-b-second.qcow2')));
  expect((await sweep()).sort()).toEqual(['demo-a-first', 'demo-b-second']);
  expect((await fs.readdir(run)).sort()).toEqual(['demo-a-first.qcow2', 'vnc']);
});

test('a VM that could not be removed keeps its files', async () => {
  await domain('demo-stuck', deadOwner(path.join(run, 'demo-stuck.qcow2')));
  await fs.writeFile(path.join(state, 'demo-stuck.fail'), '');
  expect(await sweep()).toEqual([]);
  expect((await fs.readdir(run)).sort()).toEqual(['demo-stuck.msg.sock', 'demo-stuck.qcow2', 'demo-stuck.serial.log', 'vnc']);
  expect(await fs.readdir(path.join(run, 'vnc'))).toEqual(['demo-stuck.sock']);
});

test('files whose domain is gone: swept when their owner file names a dead owner', async () => {
  const write = async (vm: string, owner: OwnerRecord, uri = URI) => {
    await writeOwnerFile(ownerFilePath(run, vm), owner, { vm, uri });
    for (const suffix of ['qcow2', 'serial.log', 'net.sock', 'xml']) await fs.writeFile(path.join(run, `${vm}.${suffix}`), 'x');
  };
  await write('demo-gone', deadOwner(path.join(run, 'demo-gone.qcow2')));
  await write('demo-booting', currentOwner({ overlay: path.join(run, 'demo-booting.qcow2'), image: 'tiny' }));
  await write('demo-gone.b', currentOwner({ overlay: path.join(run, 'demo-gone.b.qcow2'), image: 'tiny' })); // a live VM whose name extends it
  await write('demo-other-uri', deadOwner(path.join(run, 'demo-other-uri.qcow2')), 'qemu:///system');
  await write('demo-container', deadOwner(path.join(run, 'demo-container.qcow2'), { pidNamespace: 'pid:[4026599999]' }));
  await fs.writeFile(path.join(run, 'demo-noowner.qcow2'), 'x'); // no owner record: nothing is proven
  await fs.writeFile(path.join(run, 'bogus.owner.json'), JSON.stringify({ pid: deadPid, hostname: os.hostname(), vm: '../bogus', uri: URI }));

  expect(await sweep()).toEqual(['demo-gone']);
  const left = await fs.readdir(run);
  expect(left.filter((f) => f.startsWith('demo-gone.') && !f.startsWith('demo-gone.b.'))).toEqual([]);
  expect(left.filter((f) => f.startsWith('demo-gone.b.'))).toHaveLength(5);
  for (const vm of ['demo-booting', 'demo-other-uri', 'demo-container']) expect(left).toContain(`${vm}.owner.json`);
  expect(left).toContain('demo-noowner.qcow2');
  expect(left).toContain('bogus.owner.json');
});

test("a VM's files: <vm>.<suffix>, not those of a longer name; the owner file last", () => {
  const entries = [
    'demo-a.owner.json',
    'demo-a.qcow2',
    'demo-a.b.qcow2',
    'demo-ab.qcow2',
    'demo-a.b.owner.json',
    'demo-a.serial.log',
    'vnc/demo-a.sock',
    'vnc/demo-a.b.sock',
  ];
  expect(filesOf('demo-a', entries, ['demo-a', 'demo-a.b'])).toEqual(['demo-a.qcow2', 'demo-a.serial.log', 'vnc/demo-a.sock', 'demo-a.owner.json']);
});

test("an exhibit's VM is never stale: no owner process, a config instead; it and its files stay", async () => {
  await domain('demo-dead', deadOwner(path.join(run, 'demo-dead.qcow2')));
  const xml = domainXml({
    name: 'demo-artwork',
    uuid: 'uuid-demo-artwork',
    disk: '/var/cache/demotool/exhibit/demo-artwork.qcow2',
    memoryMiB: 64,
    cpus: 1,
    accel: 'tcg',
    serialLog: path.join(run, 'demo-artwork.serial.log'),
    guestAgent: false,
    network: 'closed',
    owner: { exhibit: '/etc/demotool/exhibit/artwork.yaml', image: 'tiny' },
  });
  await fs.writeFile(path.join(state, 'demo-artwork.xml'), xml);
  await fs.writeFile(path.join(run, 'demo-artwork.serial.log'), 'x');

  expect(await sweep()).toEqual(['demo-dead']);
  expect(await exists(path.join(state, 'demo-artwork.xml'))).toBe(true);
  expect(await exists(path.join(run, 'demo-artwork.serial.log'))).toBe(true);
  expect((await calls()).filter((c) => /destroy|undefine/.test(c) && c.includes('artwork'))).toEqual([]);
});

test("a dead VM's network services directory (vnc/<vm>.services/) is swept with its sockets", async () => {
  await domain('demo-net', deadOwner(path.join(run, 'demo-net.qcow2')));
  await fs.mkdir(path.join(run, 'vnc', 'demo-net.services'));
  for (const sock of ['http.sock', 'https.sock', 'dns.sock']) await fs.writeFile(path.join(run, 'vnc', 'demo-net.services', sock), '');
  expect(await sweep()).toEqual(['demo-net']);
  expect(await fs.readdir(path.join(run, 'vnc'))).toEqual([]);
});
