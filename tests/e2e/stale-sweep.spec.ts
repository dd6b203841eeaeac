import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDir } from '../../src/api/state-directories.js';
import { Domain, Virsh, readDomainXml, removeStaleVms } from '../../src/libvirt/index.js';
import { domains } from './support/host.js';

test.describe.configure({ timeout: 6 * 60_000 });

const child = join(import.meta.dirname, 'children', 'stale-owner.ts');

/** Every file of a VM under the run directory (overlay, serial log, sockets, owner record, vnc/). */
function filesOf(vm: string): string[] {
  const dir = runDir();
  const list = (d: string) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  return [...list(dir), ...list(join(dir, 'vnc')).map((f) => `vnc/${f}`)].filter((f) => f.slice(f.lastIndexOf('/') + 1).startsWith(`${vm}.`));
}

test("a killed run's VM: left alone while its owner lives, swept with all its files once the owner is dead", async ({}, testInfo) => {
  const run = execa(process.execPath, ['--import', 'tsx', child, testInfo.outputPath('v')], { reject: false, all: true });
  let vm: string | undefined;
  run.all!.on('data', (d: Buffer) => (vm ??= d.toString().match(/^VM (\S+)$/m)?.[1]));
  for (let i = 0; i < 3000 && !vm && run.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!vm) {
    run.kill('SIGKILL');
    throw new Error(`the run never booted its VM:\n${(await run).all}`);
  }
  const virsh = new Virsh();
  try {
    // libvirt's own re-serialisation of the owner record reads back whole.
    const { owner, uuid } = readDomainXml(await new Domain(vm, virsh).xml());
    expect(owner).toMatchObject({ pid: run.pid, pidStart: expect.stringMatching(/^\d+$/), pidNamespace: expect.stringMatching(/^pid:\[\d+\]$/) });
    expect(owner!.overlay).toBe(join(runDir(), `${vm}.qcow2`));
    expect(uuid).toBeTruthy();
    expect(filesOf(vm)).toEqual(expect.arrayContaining([`${vm}.qcow2`, `${vm}.owner.json`, `${vm}.serial.log`]));

    // The owner lives: nothing is touched.
    expect(await removeStaleVms(virsh, { runDir: runDir() })).not.toContain(vm);
    expect(await domains()).toContain(vm);

    run.kill('SIGKILL');
    await run;
    expect(await domains()).toContain(vm); // nothing could clean up
    expect(await removeStaleVms(virsh, { runDir: runDir() })).toContain(vm);
    expect(await domains()).not.toContain(vm);
    expect(filesOf(vm)).toEqual([]);
  } finally {
    run.kill('SIGKILL');
    if (vm) await new Domain(vm, virsh).remove().catch(() => undefined);
  }
});
