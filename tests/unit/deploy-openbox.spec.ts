import { test, expect } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// The kiosk user's Openbox autostart: valid sh, and a viewer that comes back after it exits.
const AUTOSTART = path.resolve('deploy/openbox/autostart');

test('the autostart is valid POSIX sh (sh -n, and shellcheck when installed)', () => {
  const sh = spawnSync('sh', ['-n', AUTOSTART], { encoding: 'utf8' });
  expect(sh.stderr).toBe('');
  expect(sh.status).toBe(0);
  const sc = spawnSync('shellcheck', ['-s', 'sh', AUTOSTART], { encoding: 'utf8' });
  if (sc.error) return; // shellcheck is optional; sh -n above always runs
  expect(sc.stdout).toBe('');
  expect(sc.status).toBe(0);
});

test('the autostart blanks nothing, hides the pointer, and restarts the viewer when it exits', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiosk-'));
  const log = path.join(dir, 'calls.log');
  // Stand-ins for the X tools and the viewer: each records its arguments; the viewer exits at once.
  for (const tool of ['xset', 'unclutter', 'virt-viewer'])
    await fs.writeFile(path.join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> "${log}"\nexit 1\n`, { mode: 0o755 });
  // Its own process group, so the loop it leaves running is ended by this id, and only it.
  const child = spawn('sh', [AUTOSTART], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, DEMOTOOL_KIOSK_DOMAIN: 'artwork-7', DEMOTOOL_KIOSK_RESTART_DELAY: '0.1' },
  });
  try {
    const viewerStarts = async () => (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('virt-viewer '));
    await expect.poll(async () => (await viewerStarts()).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const calls = await fs.readFile(log, 'utf8');
    expect(calls).toContain('xset s off');
    expect(calls).toContain('xset -dpms');
    expect(calls).toMatch(/^unclutter .*-root/m);
    expect((await viewerStarts())[0]).toBe('virt-viewer --kiosk --kiosk-quit never --reconnect --wait --connect qemu:///system artwork-7');
  } finally {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  }
});
