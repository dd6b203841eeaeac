import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// The kiosk user's Openbox autostart: valid sh, prepares the display, and leaves the viewer to the exhibit daemon.
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

/** Runs the autostart with stand-ins for the X tools and the viewer on PATH; returns what each was called with. */
async function runAutostart(env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiosk-'));
  const log = path.join(dir, 'calls.log');
  for (const tool of ['xset', 'xhost', 'unclutter', 'virt-viewer'])
    await fs.writeFile(path.join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> "${log}"\n`, { mode: 0o755 });
  try {
    const run = spawnSync('sh', [AUTOSTART], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ...env, PATH: `${dir}:${process.env.PATH ?? ''}` } });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0); // it ends: only unclutter stays, in the background
    const calls = async () => (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    // unclutter runs in the background: wait for its line
    await expect.poll(async () => (await calls()).some((c) => c.startsWith('unclutter ')), { timeout: 5_000 }).toBe(true);
    return await calls();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test('the autostart blanks nothing, hides the pointer, and lets the daemon show its viewer', async () => {
  const calls = await runAutostart();
  expect(calls).toContain('xset s off');
  expect(calls).toContain('xset s noblank');
  expect(calls).toContain('xset -dpms');
  expect(calls).toContain('unclutter -idle 1 -root');
  expect(calls).toContain('xhost +SI:localuser:demotool');
  // The daemon runs (and restarts) the viewer: one started here too would be a second viewer.
  expect(calls.filter((c) => c.startsWith('virt-viewer'))).toEqual([]);
});

test("the autostart grants the display to the daemon's user as configured", async () => {
  const calls = await runAutostart({ DEMOTOOL_KIOSK_DAEMON_USER: 'exhibit' });
  expect(calls).toContain('xhost +SI:localuser:exhibit');
  expect(calls).not.toContain('xhost +SI:localuser:demotool');
});
