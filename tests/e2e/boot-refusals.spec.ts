/**
 * Boots that stop early leave nothing behind and touch no one else's VM: a failed `define`
 * leaves no run/NAME.xml (nor overlay, serial log or sockets), and a domain that already has
 * our VM's name is refused, never destroyed or undefined. A `virsh` wrapper on PATH causes the
 * faults (libvirt can't be made to fail a define, or hand out a taken name, for real); every
 * other call goes to the real virsh.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { startDemo } from '../../src/index.js';
import { runDir } from '../../src/api/state-directories.js';
import { domains, runFiles } from './support/host.js';
import { scratchDir } from '../support/scratch-dir.js';

test.describe.configure({ timeout: 3 * 60_000 });

/** Puts a logging `virsh` on PATH; `fault` is a sh `case` branch on " $* " run before the real virsh. */
function virshWrapper(fault: string): { calls: () => string[]; restore: () => void } {
  const real = ['/usr/bin/virsh', '/usr/local/bin/virsh'].find((p) => existsSync(p));
  if (!real) throw new Error('no virsh installed');
  const dir = scratchDir('virsh-wrapper');
  const log = join(dir, 'calls.log');
  const script = `#!/bin/sh\necho "$*" >> '${log}'\ncase " $* " in\n${fault}\nesac\nexec '${real}' "$@"\n`;
  writeFileSync(join(dir, 'virsh'), script);
  chmodSync(join(dir, 'virsh'), 0o755);
  const old = process.env.PATH;
  process.env.PATH = `${dir}:${old}`;
  return {
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    restore: () => (process.env.PATH = old),
  };
}

test('a failed define leaves no run/NAME.xml, overlay, serial log or socket, and no domain', async ({}, info) => {
  const wrapper = virshWrapper(`  *" define "*) echo 'error: Failed to define domain (fault injected by the test)' >&2; exit 1;;`);
  let error: unknown;
  try {
    error = await startDemo('define-fails', { outputDir: info.outputPath('v') }, (demo) => demo.vm('tiny', async () => undefined)).catch((e) => e);
  } finally {
    wrapper.restore();
  }
  expect(String(error)).toContain('Failed to define domain');
  const define = wrapper.calls().find((c) => / define /.test(` ${c} `));
  const xml = define?.match(/ define (\S+\.xml)$/)?.[1];
  expect(xml, wrapper.calls().join('\n')).toBeDefined();
  const vm = xml!.slice(runDir().length + 1, -'.xml'.length);
  expect(vm).toMatch(/^demo-define-fails-/);
  expect(existsSync(xml!)).toBe(false);
  expect(runFiles(vm)).toEqual([]);
  expect(await domains()).not.toContain(vm);
});

test('a domain that already has our name is refused (EVMEXISTS) and never destroyed or undefined; we write no file under its name', async ({}, info) => {
  // Every name asked about exists: as if another run's domain held it.
  const wrapper = virshWrapper(`  *" dominfo demo-name-taken-"*) printf 'Id:             7\\nName:           %s\\n' "$2"; exit 0;;`);
  let error: { code?: string; message?: string; cause?: { code?: string } } | undefined;
  try {
    error = await startDemo('name-taken', { outputDir: info.outputPath('v') }, (demo) => demo.vm('tiny', async () => undefined)).catch((e) => e);
  } finally {
    wrapper.restore();
  }
  expect(error?.code, error?.message).toBe('EBOOT');
  expect(error?.cause?.code, error?.message).toBe('EVMEXISTS');
  const vm = error?.message?.match(/named (demo-name-taken-\S+)/)?.[1];
  expect(vm, error?.message).toBeDefined();
  const calls = wrapper.calls();
  // The subcommand, not any word: the stale sweep reads other runs' domains, and a name may hold "start".
  expect(
    calls.some((c) => /^-q -c \S+ (define|start|create)\b/.test(c)),
    calls.join('\n'),
  ).toBe(false);
  // The other domain is addressed by nothing that could remove it: neither by its name nor at all.
  expect(
    calls.filter((c) => /\b(destroy|undefine|shutdown)\b/.test(c) && c.includes(vm!)),
    calls.join('\n'),
  ).toEqual([]);
  // Refused before our owner record or overlay: any files under that name would be the other run's.
  expect(runFiles(vm!)).toEqual([]);
});
