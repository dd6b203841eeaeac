import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { domainXml, parseOwner } from '../../src/libvirt/domain-xml.js';
import { currentOwner, ownerState, parseOwnerFile, readDomainXml, readOwner, type OwnerRecord } from '../../src/libvirt/owner.js';
import { pidNamespace, processStartTime } from '../../src/process-identity.js';
import { domainSpec } from '../support/domain-spec.js';

// Every character that has an XML form: libvirt writes them back differently from how we wrote them.
const NASTY = `/run/it's "x" & <y>  z.qcow2`;
const owner: OwnerRecord = {
  pid: 4242,
  pidStart: '987654',
  pidNamespace: 'pid:[4026531836]',
  hostname: `h'o"st&`,
  runId: 'run-1',
  startedAt: '2025-01-01T00:00:00.000Z',
  overlay: NASTY,
  image: `ti'ny`,
};
const spec = domainSpec('demo-owner', { disk: NASTY, memoryMiB: 64, serialLog: '/run/s.log', vnc: { tcp: '127.0.0.1' }, owner });

/** libvirt's re-serialised <metadata>, exactly as `virsh dumpxml` printed it for the record above (libvirt 9). */
const LIBVIRT_FORM = `<domain type='qemu'>
  <name>demo-owner</name>
  <uuid>d616729b-6f4c-406b-8ae5-1ab13b20afb7</uuid>
  <metadata>
    <demotool:vm xmlns:demotool="https://demotool.dev/xmlns/vm/1">
      <demotool:owner pid="4242" pidStart="987654" pidNamespace="pid:[4026531836]" hostname="h'o&quot;st&amp;" runId="run-1" startedAt="2025-01-01T00:00:00.000Z"/>
      <demotool:overlay path="/run/it's &quot;x&quot; &amp; &lt;y&gt;  z.qcow2"/>
      <demotool:image name="ti'ny"/>
    </demotool:vm>
  </metadata>
  <memory unit='KiB'>65536</memory>
</domain>
`;

test.describe('owner record in the domain metadata', () => {
  test('round trip through our own XML (single quotes, &apos;)', () => {
    expect(readOwner(domainXml(spec))).toEqual(owner);
  });

  test("round trip through libvirt's form: double quotes, a literal ', &quot;, &amp;, &lt;", () => {
    expect(readOwner(LIBVIRT_FORM)).toEqual(owner);
    expect(readDomainXml(LIBVIRT_FORM)).toMatchObject({ name: 'demo-owner', uuid: 'd616729b-6f4c-406b-8ae5-1ab13b20afb7' });
    // The narrow parseOwner (older API) reads the same, not a path cut at the quote.
    expect(parseOwner(LIBVIRT_FORM)).toEqual({ pid: 4242, hostname: `h'o"st&`, overlay: NASTY });
  });

  test('round trip through a real libvirt (test:///default driver)', async () => {
    const hasVirsh = (await execa('sh', ['-c', 'command -v virsh'], { reject: false })).exitCode === 0;
    test.skip(!hasVirsh, 'virsh is not installed');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'owner-xml-'));
    try {
      const file = path.join(dir, 'd.xml');
      await fs.writeFile(file, domainXml(spec).replace("<domain type='qemu'", "<domain type='test'"));
      const r = await execa('virsh', ['-q', '-c', 'test:///default', `define ${file}; dumpxml demo-owner`]);
      expect(r.stdout).toContain('"'); // libvirt did re-serialise it
      expect(readOwner(r.stdout)).toEqual(owner);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('the record is found by its namespace, whatever the prefix; other metadata is ignored', () => {
    const xml = `<domain><name>x</name><metadata>
      <other:vm xmlns:other="https://example.com/ns"><other:owner pid="1" hostname="h"/></other:vm>
      <d:vm xmlns:d="https://demotool.dev/xmlns/vm/1"><d:owner pid="7" hostname="h"/><d:overlay path="/r/x.qcow2"/></d:vm>
    </metadata></domain>`;
    expect(readOwner(xml)).toEqual({ pid: 7, hostname: 'h', overlay: '/r/x.qcow2' });
  });

  test('no record, a broken record or broken XML: undefined', () => {
    expect(readOwner('<domain><name>x</name></domain>')).toBeUndefined();
    expect(
      readOwner('<domain><metadata><d:vm xmlns:d="https://demotool.dev/xmlns/vm/1"><d:owner pid="x" hostname="h"/></d:vm></metadata></domain>'),
    ).toBeUndefined();
    expect(readOwner('')).toBeUndefined();
    expect(readOwner('<domain><metadata>')).toBeUndefined();
  });
});

test.describe('owner identity', () => {
  test('start time is /proc/PID/stat field 22: it gives this process its start time', () => {
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    const btime = Number(readFileSync('/proc/stat', 'utf8').match(/^btime (\d+)$/m)![1]);
    const ticks = 100; // USER_HZ on Linux
    const startedAt = btime + Number(start) / ticks;
    expect(Math.abs(startedAt - (Date.now() / 1000 - process.uptime()))).toBeLessThan(3);
    expect(processStartTime(0x7ffffff0)).toBeUndefined();
  });

  test('a comm with spaces and parentheses does not shift the fields', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'comm-'));
    const odd = path.join(dir, 'a) b (c');
    await fs.copyFile('/bin/sleep', odd);
    const child = spawn(odd, ['5']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(readFileSync(`/proc/${child.pid}/stat`, 'utf8')).toContain('(a) b (c)');
      const start = Number(processStartTime(child.pid!));
      expect(start).toBeGreaterThanOrEqual(Number(processStartTime(process.pid)));
    } finally {
      child.kill();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('the PID namespace is /proc/self/ns/pid', () => {
    expect(pidNamespace()).toBe(readlinkSync('/proc/self/ns/pid'));
    expect(currentOwner({ overlay: '/o', image: 'i' })).toMatchObject({
      pid: process.pid,
      pidStart: processStartTime(process.pid),
      pidNamespace: pidNamespace(),
      hostname: os.hostname(),
    });
  });

  test('dead: the pid is gone, or names another process (other start time); elsewhere: other host or PID namespace', async () => {
    const me = currentOwner({ overlay: '/o', image: 'i' });
    expect(ownerState(me).state).toBe('alive');
    expect(ownerState({ ...me, pidStart: String(Number(me.pidStart) + 1) })).toMatchObject({ state: 'dead', reason: /another process/ });
    const child = spawn('true');
    await new Promise((r) => child.on('exit', r));
    expect(ownerState({ ...me, pid: child.pid! }).state).toBe('dead');
    expect(ownerState({ ...me, pid: child.pid!, hostname: 'other-host' }).state).toBe('elsewhere');
    expect(ownerState({ ...me, pid: child.pid!, pidNamespace: 'pid:[1]' }).state).toBe('elsewhere');
    // Records of older versions (pid and host only) are judged by the pid alone.
    expect(ownerState({ pid: child.pid!, hostname: os.hostname() }).state).toBe('dead');
    expect(ownerState({ pid: process.pid, hostname: os.hostname() }).state).toBe('alive');
  });

  test('dead: a process that ended but was never reaped (a zombie: where nothing reaps orphans, it stays one)', async () => {
    // The shell starts a short sleep and becomes a long one that never waits for it: the short one, once over, stays a zombie.
    const parent = execa('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 5'], { buffer: false });
    const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    try {
      await expect.poll(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.charAt(0)).toBe('Z');
      expect(ownerState({ pid, hostname: os.hostname() })).toMatchObject({ state: 'dead', reason: `pid ${pid} is gone` });
    } finally {
      parent.kill('SIGKILL');
      await parent.catch(() => undefined);
    }
  });

  test('owner files: only well-formed records are read', () => {
    const good = { ...currentOwner({ overlay: '/o', image: 'i' }), vm: 'demo-x', uri: 'qemu:///session' };
    expect(parseOwnerFile(JSON.stringify(good))).toEqual(good);
    expect(parseOwnerFile('{')).toBeUndefined();
    expect(parseOwnerFile(JSON.stringify({ ...good, pid: '12' }))).toBeUndefined();
    expect(parseOwnerFile(JSON.stringify({ ...good, vm: undefined }))).toBeUndefined();
    expect(parseOwnerFile('null')).toBeUndefined();
  });
});
