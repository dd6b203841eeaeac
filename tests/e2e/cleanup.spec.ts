/** Nothing leaks, on any path: crashes, repeated signals, SIGHUP during a recording, libvirtd unreachable. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { test, expect } from '@playwright/test';
import { ImageCache, backendsOf, startDemo } from '../../src/index.js';
import { Virsh } from '../../src/libvirt/index.js';
import { probeVideo } from '../../src/record/index.js';
import { domains, runFiles } from './support/host.js';

const child = (name: string) => fileURLToPath(new URL(`./children/${name}`, import.meta.url));

for (const how of ['exception', 'rejection', 'exit'] as const) {
  test(`a process that ends by ${how} after boot leaves no domain and no run files`, async ({}, info) => {
    test.setTimeout(3 * 60_000);
    const r = await execa(process.execPath, ['--import', 'tsx', child('crash.ts'), how, info.outputPath('v')], {
      reject: false,
      timeout: 150_000,
      env: { DEMOTOOL_LOG_LEVEL: 'error' },
    });
    expect(r.exitCode, r.stderr).not.toBe(0);
    const { vm } = JSON.parse(r.stdout.trim().split('\n')[0]!);
    expect(vm).toMatch(/^demo-crash-/);
    expect(await domains()).not.toContain(vm);
    expect(runFiles(vm)).toEqual([]);
  });
}

test('a second SIGINT in the same process runs the cleanups again', async () => {
  const r = await execa(process.execPath, ['--import', 'tsx', child('signals.ts')], { reject: false, timeout: 30_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout.trim()).ran).toEqual(['first', 'second']);
});

test('SIGHUP finishes an active recording: the file is playable', async ({}, info) => {
  const dir = info.outputPath('v');
  const proc = execa(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./record-child.ts', import.meta.url)), 'sigint', dir], {
    reject: false,
    timeout: 60_000,
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => /"started":true/.test(d.toString()) && resolve());
    proc.catch(reject);
  });
  await new Promise((r) => setTimeout(r, 2_000));
  proc.kill('SIGHUP');
  const r = await proc;
  expect(r.signal).toBe('SIGHUP');
  const v = await probeVideo(`${dir}/child.mp4`);
  expect(v.durationSec).toBeGreaterThan(1.5);
});

test('libvirtd unreachable: close() rejects, the overlay is kept, and a later close() finishes the job', async ({}, info) => {
  test.setTimeout(3 * 60_000);
  const demo = await startDemo('unreachable', { outputDir: info.outputPath('v') });
  const vm = await demo.vm('tiny', { resources: { memoryMiB: 512 } });
  const domain = backendsOf(vm).domain as { virsh: Virsh };
  const good = domain.virsh;
  // This VM's libvirt calls now go to a socket where nothing listens, as if libvirtd were down.
  domain.virsh = new Virsh({ uri: 'qemu:///session?socket=/nonexistent/libvirt-sock' });
  const error = await vm.close().catch((e) => e);
  expect(error?.code).toBe('EVMREMOVE');
  expect(error.message).toContain('could not be removed');
  const overlay = runFiles(vm.name).find((f) => f.endsWith('.qcow2'));
  expect(overlay).toBeDefined();
  expect(await domains()).toContain(vm.name);
  domain.virsh = good;
  await vm.close();
  expect(await domains()).not.toContain(vm.name);
  expect(runFiles(vm.name)).toEqual([]);
  await demo.close();
});

test('a guest paused by a full disk: the wait fails at once and says the VM is paused by an I/O error', async ({}, info) => {
  test.setTimeout(4 * 60_000);
  // A short path: unix socket paths under it must stay under 108 bytes.
  const mount = mkdtempSync('/tmp/dt-');
  // On the disk, not the tmpfs: the saved boot's frozen disk is copied across from the run directory.
  const savedBoots = mkdtempSync(path.join(os.tmpdir(), 'demotool-test-saved-'));
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]);
  try {
    // XDG_CACHE_HOME on the tmpfs puts the run directory there; the image stays in this run's cache.
    const r = await execa(process.execPath, ['--import', 'tsx', child('disk-full.ts'), info.outputPath('v'), new ImageCache().dir, savedBoots], {
      reject: false,
      timeout: 200_000,
      env: { XDG_CACHE_HOME: mount, DEMOTOOL_LOG_LEVEL: 'error', DEMOTOOL_ACCEL: 'tcg' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    // The run directory and the saved boots on two filesystems: the boot was saved all the same, and restored.
    expect(out.started).toEqual(['cold', 'warm']);
    expect(out.code, out.message).toBe('EVMPAUSEDIO');
    expect(out.message).toContain('is the disk full?');
    expect(out.message).toContain('the wait it cut short: wait for serial DD-DONE');
    // Seen at the next look at the VM's state, long before the wait's 120 s.
    expect(out.waitedMs).toBeLessThan(60_000);
  } finally {
    await execa('umount', ['-l', mount], { reject: false });
    rmSync(mount, { recursive: true, force: true });
    rmSync(savedBoots, { recursive: true, force: true });
  }
});
