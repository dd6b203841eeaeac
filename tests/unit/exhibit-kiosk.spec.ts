import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KioskViewer, displayPresent, kioskCommand } from '../../src/exhibit/kiosk.js';
import type { LogFields, Logger } from '../../src/log.js';

// The kiosk viewer supervisor with real processes: sh and sleep stand in for virt-viewer's command line.

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  fields: LogFields;
}

/** A Logger that keeps what it is told, so a test can read the supervisor's log lines. */
function recordingLog(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: Line['level']) =>
    (event: string, fields: LogFields = {}) =>
      void lines.push({ level, event, fields });
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

/** Is the process there and not a zombie? (An orphan stays a zombie until PID 1 reaps it, which may take a while here.) */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

let viewers: KioskViewer[] = [];
const start = (options: Parameters<typeof KioskViewer.start>[0]) => {
  const viewer = KioskViewer.start(options);
  viewers.push(viewer);
  return viewer;
};
test.afterEach(async () => {
  await Promise.all(viewers.map((v) => v.stop()));
  viewers = [];
});

test('kioskCommand: virt-viewer full-screen on the domain through libvirt, or the configured viewer', () => {
  expect(kioskCommand({}, 'artwork-7', 'qemu:///system')).toEqual([
    'virt-viewer',
    '--connect',
    'qemu:///system',
    '--kiosk',
    '--kiosk-quit',
    'never',
    '--reconnect',
    '--wait',
    'artwork-7',
  ]);
  const viewer = ['remote-viewer', '--kiosk', 'spice+unix:///run/art.sock'];
  const command = kioskCommand({ viewer }, 'artwork-7', 'qemu:///system');
  expect(command).toEqual(viewer);
  command.push('--changed');
  expect(viewer).toHaveLength(3); // a copy: the config stays as it was
});

test('displayPresent: DISPLAY or WAYLAND_DISPLAY', () => {
  expect(displayPresent({})).toBe(false);
  expect(displayPresent({ DISPLAY: '' })).toBe(false);
  expect(displayPresent({ DISPLAY: ':0' })).toBe(true);
  expect(displayPresent({ WAYLAND_DISPLAY: 'wayland-0' })).toBe(true);
});

test('a viewer that exits at once is restarted with growing delays, up to the cap', async () => {
  const log = recordingLog();
  const viewer = start({ command: ['sh', '-c', 'exit 3'], log, restartDelayMs: 50, maxDelayMs: 400 });
  await sleep(1_500);
  // 50 + 100 + 200 + 400 + 400 ms: about 5 restarts in 1.5 s; without backoff it would be near 30.
  expect(viewer.restarts).toBeGreaterThanOrEqual(3);
  expect(viewer.restarts).toBeLessThanOrEqual(6);
  const exits = log.lines.filter((l) => l.event === 'kiosk viewer exited; restarting');
  expect(exits.every((l) => l.level === 'warn' && l.fields.code === 3)).toBe(true);
  expect(exits.map((l) => l.fields.restartInMs).slice(0, 5)).toEqual([50, 100, 200, 400, 400]);

  await viewer.stop();
  const restarts = viewer.restarts;
  await sleep(600); // longer than the largest delay: a restart still pending would have fired
  expect(viewer.restarts).toBe(restarts);
  expect(viewer.running).toBe(false);
});

test('after a viewer ran steadily, the delay starts again from the first', async () => {
  const log = recordingLog();
  start({ command: ['sh', '-c', 'sleep 0.3; exit 1'], log, restartDelayMs: 50, maxDelayMs: 400, steadyAfterMs: 200 });
  const delays = () => log.lines.filter((l) => l.event === 'kiosk viewer exited; restarting').map((l) => l.fields.restartInMs);
  await expect.poll(() => delays().length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
  expect(delays().slice(0, 3)).toEqual([50, 50, 50]);
});

test('a long-running viewer runs until stop(), which ends it, and nothing restarts after', async () => {
  const log = recordingLog();
  const viewer = start({ command: ['sleep', '600'], log, restartDelayMs: 50 });
  expect(viewer.running).toBe(true);
  const pid = viewer.pid!;
  expect(await alive(pid)).toBe(true);
  await sleep(200);
  expect(viewer.restarts).toBe(0);

  const stopped = viewer.stop();
  expect(viewer.stop()).toBe(stopped); // idempotent
  await stopped;
  expect(() => process.kill(pid, 0)).toThrow();
  expect(viewer.running).toBe(false);
  await sleep(300);
  expect(viewer.running).toBe(false);
  expect(viewer.restarts).toBe(0);
  expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  await viewer.stop(); // again, after the end
});

test('stop() kills a viewer that ignores SIGTERM after 3 s', async () => {
  const viewer = start({ command: ['sh', '-c', 'trap "" TERM; sleep 600; sleep 600'], log: recordingLog() });
  const pid = viewer.pid!;
  await sleep(200); // let sh set its trap
  const began = performance.now();
  await viewer.stop();
  expect(performance.now() - began).toBeGreaterThanOrEqual(2_900);
  expect(await alive(pid)).toBe(false);
});

test('a viewer killed from outside is restarted, as a new process', async () => {
  const log = recordingLog();
  const viewer = start({ command: ['sleep', '600'], log, restartDelayMs: 50 });
  const first = viewer.pid!;
  process.kill(first, 'SIGKILL');
  await expect.poll(() => viewer.restarts, { timeout: 5_000 }).toBe(1);
  await expect.poll(() => viewer.running).toBe(true);
  expect(viewer.pid).not.toBe(first);
  expect(await alive(viewer.pid!)).toBe(true);
  const exit = log.lines.find((l) => l.event === 'kiosk viewer exited; restarting');
  expect(exit?.fields).toMatchObject({ pid: first, signal: 'SIGKILL', restartInMs: 50 });
});

test('what a wrapper viewer started ends with it: on exit before the restart, and on stop()', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiosk-'));
  try {
    const pids = path.join(dir, 'pids');
    // The first run leaves a sleep behind and exits; later runs wait on theirs.
    const script = `sleep 600 & echo $! >> '${pids}'; if [ -e '${dir}/once' ]; then wait; else : > '${dir}/once'; exit 1; fi`;
    const viewer = start({ command: ['sh', '-c', script], log: recordingLog(), restartDelayMs: 50 });
    const read = async () => (await fs.readFile(pids, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    await expect.poll(async () => (await read()).length, { timeout: 5_000 }).toBe(2);
    const [leftBehind, second] = (await read()) as [number, number];
    await expect.poll(() => alive(leftBehind)).toBe(false);
    expect(await alive(second)).toBe(true);
    await viewer.stop();
    await expect.poll(() => alive(second)).toBe(false);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("the viewer's exit is logged once, with the end of what it wrote to stderr", async () => {
  const log = recordingLog();
  const viewer = start({ command: ['sh', '-c', 'echo "cannot open display: :9" >&2; exit 1'], log, restartDelayMs: 1_000 });
  await expect.poll(() => log.lines.filter((l) => l.event === 'kiosk viewer exited; restarting').length).toBe(1);
  await sleep(300);
  const exits = log.lines.filter((l) => l.event === 'kiosk viewer exited; restarting');
  expect(exits).toHaveLength(1);
  expect(exits[0]!.fields).toMatchObject({ code: 1, restartInMs: 1_000, stderr: 'cannot open display: :9' });
  expect(viewer.restarts).toBe(0);
});

test('a missing viewer is a warning with the hint, retried with backoff until it is installed', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiosk-'));
  try {
    const executable = path.join(dir, 'virt-viewer');
    const log = recordingLog();
    const viewer = start({ command: [executable, '--kiosk'], log, restartDelayMs: 50, maxDelayMs: 200 });
    expect(viewer.running).toBe(false);
    await expect.poll(() => viewer.restarts, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    const warnings = log.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1); // said once, not once per retry
    expect(warnings[0]).toMatchObject({
      event: 'kiosk viewer not found',
      fields: { hint: 'install virt-viewer (apt-get install virt-viewer) or set kiosk.viewer' },
    });
    expect(log.lines.filter((l) => l.event === 'kiosk viewer still missing').length).toBeGreaterThanOrEqual(2);
    expect(viewer.running).toBe(false);

    // The operator installs it: the next retry starts it.
    await fs.writeFile(executable, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    await expect.poll(() => viewer.running, { timeout: 5_000 }).toBe(true);
    const pid = viewer.pid!;
    await viewer.stop();
    expect(await alive(pid)).toBe(false);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a viewer file still open for writing (ETXTBSY, thrown by spawn rather than emitted) is retried, not a crash', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiosk-'));
  const executable = path.join(dir, 'viewer');
  // An install under way: the file is there, executable, and still open for writing.
  const writing = await fs.open(executable, 'w', 0o755);
  try {
    await writing.write('#!/bin/sh\nexec sleep 600\n');
    const log = recordingLog();
    const viewer = start({ command: [executable], log, restartDelayMs: 50, maxDelayMs: 200 });
    await expect.poll(() => viewer.restarts, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    expect(viewer.running).toBe(false);
    expect(log.lines.find((l) => l.event === 'kiosk viewer could not start')?.fields).toMatchObject({ error: expect.stringContaining('ETXTBSY') });
    await writing.close();
    await expect.poll(() => viewer.running, { timeout: 5_000 }).toBe(true);
    await viewer.stop();
  } finally {
    await writing.close().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});
