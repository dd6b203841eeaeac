import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain .mjs module (setup runs before node_modules and the build exist)
import { unitCheckPackages } from '../../scripts/host-packages.mjs';

// The shipped template unit, checked by systemd's own verifier. `npx demotool setup` installs the
// `systemd` package on apt hosts for it (it installs even where systemd is not PID 1).
const UNIT = path.resolve('deploy/systemd/demotool-exhibit@.service');
const INSTALLED_BINARY = '/usr/local/bin/demotool';

/** systemd-analyze verify on the unit as instance `test`, its ExecStart binary a script we create. */
async function verify(text: string): Promise<{ status: number | null; output: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'unit-'));
  try {
    // verify checks that ExecStart's executable exists: point it at one this test owns.
    const binary = path.join(dir, 'demotool');
    await fs.writeFile(binary, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const unit = path.join(dir, 'demotool-exhibit@test.service');
    await fs.writeFile(unit, text.replaceAll(INSTALLED_BINARY, binary));
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    if (r.error) throw new Error(`systemd-analyze can't run (${r.error.message}): install the systemd package (npx demotool setup does on apt hosts)`);
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test('the template unit runs `demotool exhibit` on the instance config, restarted when it exits', async () => {
  const text = await fs.readFile(UNIT, 'utf8');
  const lines = text.split('\n');
  expect(lines).toContain(`ExecStart=${INSTALLED_BINARY} exhibit --config /etc/demotool/exhibit/%i.yaml`);
  expect(lines).toContain('Restart=always');
  // Stopping the daemon leaves the VM's guest network running, as the VM is (a restart must not cut the guest off).
  expect(lines).toContain('KillMode=process');
  expect(lines).toContain('ProtectSystem=strict');
  // Every address family the daemon needs: libvirt's socket, the API listeners, the guest network.
  const families = lines
    .find((l) => l.startsWith('RestrictAddressFamilies='))
    ?.split('=')[1]
    ?.split(/\s+/);
  expect(families).toEqual(expect.arrayContaining(['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK']));
  // No WatchdogSec= without sd_notify pings: it would kill a healthy daemon.
  expect(lines.some((l) => l.startsWith('WatchdogSec='))).toBe(false);
});

test('systemd-analyze verify passes on the unit with no warnings', async () => {
  const r = await verify(await fs.readFile(UNIT, 'utf8'));
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
});

test('systemd-analyze verify would catch a broken unit (the check above can fail)', async () => {
  const text = await fs.readFile(UNIT, 'utf8');
  const broken = await verify(text.replace('Restart=always', 'Restart=always\nRestartSecs=5s'));
  expect(broken.output).toMatch(/RestartSecs/);
  const missing = await verify(text.replace(`ExecStart=${INSTALLED_BINARY}`, 'ExecStart=/nonexistent/demotool'));
  expect(missing.status).not.toBe(0);
  expect(missing.output).toMatch(/nonexistent/);
});

test('setup installs systemd-analyze (the systemd package) on apt hosts, and says so elsewhere', () => {
  expect(unitCheckPackages({ family: 'apt' })).toEqual({ install: ['systemd'], notes: [] });
  const dnf = unitCheckPackages({ family: 'dnf' }) as { install: string[]; notes: string[] };
  expect(dnf.install).toEqual([]);
  expect(dnf.notes.join(' ')).toMatch(/systemd-analyze/);
});
