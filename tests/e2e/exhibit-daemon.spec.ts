/**
 * `demotool exhibit --config FILE` as an operator runs it: a real daemon process on a real tiny
 * VM (heartbeats over its serial port). One VM for the file, defined from the image by the first
 * test and kept by the daemon's restarts, as an exhibit's VM is; removed at the end.
 */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleVms, Virsh } from '../../src/libvirt/index.js';
import { exhibitDirectory, runDir } from '../../src/api/internal.js';
import { DaemonProcess } from './support/exhibit-daemon.js';
import { parseExposition, value } from './support/prometheus-text.js';
import { domains, qemuPid, virsh } from './support/host.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });

const NAME = `exhibit-e2e-${process.pid}`;
const HEARTBEAT_TIMEOUT_S = 6;
let dir = '';
let configFile = '';
let daemon: DaemonProcess | undefined;

/** The config the tests start from. */
function config(o: { onStart?: string; onStop?: string; heartbeatTimeout?: string } = {}): string {
  return `# exhibit e2e
vm:
  image: tiny
  name: ${NAME}
resources:
  memoryMiB: 512
watchdog:
  heartbeatTimeout: ${o.heartbeatTimeout ?? `${HEARTBEAT_TIMEOUT_S}s`}
  grace: 3s
  idleTimeout: 0ms
  guestRequestInterval: 0ms
transport: serial
api:
  port: 0
onStart: ${o.onStart ?? 'keep-if-healthy'}
onStop: ${o.onStop ?? 'leave-running'}
`;
}

async function startDaemon(text: string): Promise<{ daemon: DaemonProcess; url: string }> {
  await writeFile(configFile, text);
  daemon = new DaemonProcess(configFile);
  const url = await daemon.url(180_000);
  return { daemon, url };
}

async function healthy(d: DaemonProcess, url: string): Promise<void> {
  await expect.poll(async () => (await d.status(url)).state, { timeout: 60_000 }).toBe('healthy');
}

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'demotool-exhibit-e2e-'));
  configFile = join(dir, 'artwork.yaml');
});

test.afterAll(async () => {
  await daemon?.stop('SIGKILL');
  // However the tests ended: the VM, its overlay and its network go.
  for (const file of [configFile, join(dir, 'interrupted.yaml')])
    await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', 'remove', '--config', file], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

test('a bad config fails at start with file, line and field, and nothing is defined', async () => {
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, config({ heartbeatTimeout: 'soon' }));
  const r = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', '--config', bad], { reject: false, all: true });
  expect(r.exitCode, r.all).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:8:\\d+: watchdog\\.heartbeatTimeout: `));
  expect(await domains()).not.toContain(NAME);
});

test('Ctrl-C during the first boot removes the half-made VM, its network and its files', async () => {
  const interrupted = join(dir, 'interrupted.yaml');
  await writeFile(interrupted, config().replace(`name: ${NAME}`, `name: ${NAME}-int`));
  const d = new DaemonProcess(interrupted);
  await expect.poll(async () => (await domains()).includes(`${NAME}-int`), { timeout: 60_000, intervals: [100] }).toBe(true);
  d.child.kill('SIGINT');
  await d.stop('SIGINT', 30_000);
  expect(await domains()).not.toContain(`${NAME}-int`);
  expect(existsSync(join(exhibitDirectory(), `${NAME}-int.qcow2`))).toBe(false);
  expect((await execa('pgrep', ['-f', `${NAME}-int.net.sock`], { reject: false })).stdout).toBe('');
});

test('the daemon boots the VM, reverts an injected fault, counts it in /metrics, and stops on SIGTERM leaving the VM running', async () => {
  const { daemon: d, url } = await startDaemon(config());
  await healthy(d, url);
  const before = parseExposition(await (await fetch(`${url}/metrics`)).text());
  const labels = { reason: 'domain-paused', method: 'in-place', outcome: 'ok', vm: NAME };
  expect(value(before, 'demotool_watchdog_reverts_total', labels)).toBe(0);

  await virsh('suspend', NAME);
  await expect.poll(async () => (await d.status(url)).reverts, { timeout: 60_000 }).toBe(1);
  const status = await d.status(url);
  expect(status.last_revert).toMatchObject({ reason: 'domain-paused', ok: true });
  await healthy(d, url);
  const after = parseExposition(await (await fetch(`${url}/metrics`)).text());
  expect(value(after, 'demotool_watchdog_reverts_total', labels)).toBe(1);

  expect(await d.stop('SIGTERM'), d.log).toBe(0);
  expect(d.log).toMatch(/exhibit stopped .*vm_left=running/);
  expect(await virsh('domstate', NAME)).toBe('running');
  await expect(fetch(`${url}/api/v1/status`)).rejects.toThrow();
  // The stale sweep of a demo run leaves an exhibit's VM alone, though the daemon that ran it is gone.
  expect(await removeStaleVms(new Virsh(), { runDir: runDir() })).not.toContain(NAME);
  expect(await domains()).toContain(NAME);
});

test('a restart with onStart: keep-if-healthy leaves the healthy VM alone; onStart: revert reverts it', async () => {
  const pid = await qemuPid(NAME);
  const networkPid = await readFile(join(exhibitDirectory(), `${NAME}.net.pid`), 'utf8');
  const snapshotBefore = await virsh('snapshot-info', NAME, 'ready');
  const { daemon: d, url } = await startDaemon(config({ onStart: 'keep-if-healthy' }));
  await healthy(d, url);
  const beatsWhenHealthy = (await d.status(url)).guest.heartbeats;
  // Longer than a heartbeat timeout: had the guest been cut off from the new daemon, it would have been reverted by now.
  await new Promise((r) => setTimeout(r, (HEARTBEAT_TIMEOUT_S + 2) * 1000));
  const status = await d.status(url);
  expect(status.state).toBe('healthy');
  expect(status.reverts).toBe(0);
  expect(status.guest.heartbeats).toBeGreaterThan(beatsWhenHealthy + 1);
  expect(d.log).toContain('vm left running (onStart: keep-if-healthy)');
  expect(await qemuPid(NAME)).toBe(pid);
  // The guest network the first daemon started is the one QEMU is still connected to.
  expect(await readFile(join(exhibitDirectory(), `${NAME}.net.pid`), 'utf8')).toBe(networkPid);
  // The known-good snapshot is the one taken at the first boot, not a new one.
  expect(await virsh('snapshot-info', NAME, 'ready')).toBe(snapshotBefore);
  expect(await d.stop('SIGTERM'), d.log).toBe(0);

  // onStart: revert is what the config says to do with a running VM: one revert at start.
  const again = await startDaemon(config({ onStart: 'revert' }));
  await healthy(again.daemon, again.url);
  expect((await again.daemon.status(again.url)).last_revert).toMatchObject({ reason: 'manual', detail: 'daemon start (onStart: revert)', ok: true });
  expect(await again.daemon.stop('SIGTERM'), again.daemon.log).toBe(0);
});

test('SIGHUP: an invalid config is refused and the running one stays; a valid one is applied', async () => {
  const { daemon: d, url } = await startDaemon(config({ onStart: 'keep-if-healthy' }));
  await healthy(d, url);
  expect((await d.status(url)).heartbeat.timeout).toBe(HEARTBEAT_TIMEOUT_S);

  await writeFile(configFile, config({ heartbeatTimeout: '-3s' }));
  let mark = d.log.length;
  d.child.kill('SIGHUP');
  await d.waitForLog(/reload refused; the running config stays: invalid exhibit config .*\n.*artwork\.yaml:8:\d+: watchdog\.heartbeatTimeout/, 20_000, mark);
  const kept = await d.status(url);
  expect(kept.heartbeat.timeout).toBe(HEARTBEAT_TIMEOUT_S);
  expect(kept.state).toBe('healthy');

  // Another VM is not a reload: refused too.
  await writeFile(configFile, config().replace(`name: ${NAME}`, `name: ${NAME}-other`));
  mark = d.log.length;
  d.child.kill('SIGHUP');
  await d.waitForLog(/reload refused; .*vm changed: that takes a restart of the daemon/, 20_000, mark);

  await writeFile(configFile, config({ heartbeatTimeout: '9s' }));
  mark = d.log.length;
  d.child.kill('SIGHUP');
  await d.waitForLog(/config reloaded/, 30_000, mark);
  // The new watchdog listens where the old one did (port 0 picked a port once, at start).
  await expect.poll(async () => (await d.status(url)).heartbeat.timeout, { timeout: 10_000 }).toBe(9);
  await healthy(d, url);
  expect(await d.stop('SIGTERM'), d.log).toBe(0);
});

test('vm.domain: an existing domain is watched as it is (the screen through libvirt), and never removed by demotool', async () => {
  // The exhibit's VM stands in for an operator's own domain: this config did not define it.
  const foreign = join(dir, 'foreign.yaml');
  await writeFile(
    foreign,
    `vm:\n  domain: ${NAME}\nwatchdog:\n  heartbeatTimeout: 0ms\n  idleTimeout: 0ms\n  takeSnapshot: never\napi:\n  port: 0\nonStart: keep-if-healthy\n`,
  );
  const d = new DaemonProcess(foreign);
  daemon = d;
  const url = await d.url(60_000);
  await expect.poll(async () => (await d.status(url)).state, { timeout: 20_000 }).toBe('watching');
  const screen = await fetch(`${url}/api/v1/screen.png`);
  expect(screen.status).toBe(200);
  const png = Buffer.from(await screen.arrayBuffer());
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  await virsh('suspend', NAME);
  await expect.poll(async () => (await d.status(url)).last_revert?.reason, { timeout: 60_000 }).toBe('domain-paused');
  expect(await d.stop('SIGTERM'), d.log).toBe(0);
  expect(await virsh('domstate', NAME)).toBe('running');
  const remove = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', 'remove', '--config', foreign], { reject: false, all: true });
  expect(remove.exitCode).toBe(1);
  expect(remove.stderr).toContain(`runs the existing domain ${NAME}; demotool did not define it and does not remove it`);
  expect(await domains()).toContain(NAME);
});

test('a VM of ours without its snapshot never finished its first start: it is defined anew', async () => {
  await virsh('snapshot-delete', NAME, 'ready');
  const { daemon: d, url } = await startDaemon(config());
  await healthy(d, url);
  expect(d.log).toContain('the VM never finished its first start');
  expect(d.log).toMatch(/exhibit running .*found=booted/);
  expect(await virsh('snapshot-list', NAME, '--name')).toBe('ready');
  expect(await d.stop('SIGTERM'), d.log).toBe(0);
});

test('onStop: shutdown shuts the VM off; the next start brings it back from its snapshot; exhibit remove deletes it', async () => {
  let { daemon: d, url } = await startDaemon(config({ onStop: 'shutdown' }));
  await healthy(d, url);
  expect(await d.stop('SIGTERM'), d.log).toBe(0);
  expect(await virsh('domstate', NAME)).toBe('shut off');

  ({ daemon: d, url } = await startDaemon(config()));
  await healthy(d, url);
  expect(d.log).toContain('vm started from its snapshot');
  expect(await d.stop('SIGTERM'), d.log).toBe(0);

  const r = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', 'remove', '--config', configFile], { reject: false, all: true });
  expect(r.exitCode, r.all).toBe(0);
  expect(await domains()).not.toContain(NAME);
  expect(existsSync(join(exhibitDirectory(), `${NAME}.qcow2`))).toBe(false);
  expect((await execa('pgrep', ['-f', `${NAME}.net.sock`], { reject: false })).stdout).toBe('');
});

test('vm.hardware: an exhibit VM defined from an image gets the profile’s devices (legacy-windows: IDE, e1000, local clock, no virtio)', async () => {
  const name = `${NAME}-legacy`;
  const file = join(dir, 'legacy.yaml');
  await writeFile(file, config().replace(`name: ${NAME}`, `name: ${name}\n  hardware: legacy-windows`));
  const d = new DaemonProcess(file);
  try {
    const url = await d.url(180_000);
    await healthy(d, url);
    const xml = await virsh('dumpxml', name);
    expect(xml).toMatch(/<target dev='hda' bus='ide'\/>/);
    expect(xml).toMatch(/'e1000,netdev=dtnet0,/);
    expect(xml).toMatch(/<clock offset='localtime'/);
    expect(xml).not.toMatch(/virtio/);
    expect(await d.stop('SIGTERM'), d.log).toBe(0);
  } finally {
    await d.stop('SIGKILL');
    await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', 'remove', '--config', file], { reject: false });
  }
  expect(await domains()).not.toContain(name);
});

/** Runs `command` in the exhibit guest's serial shell (through the console's pty) and waits for `expected` in its serial log. */
async function inGuest(name: string, command: string, expected: RegExp, from: number): Promise<string> {
  const pty = await open(await virsh('ttyconsole', name), 'w');
  const log = join(exhibitDirectory(), `${name}.serial.log`);
  let text = '';
  try {
    await pty.write(`\r${command}\r`);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      text = (await readFile(log, 'utf8')).slice(from);
      if (expected.test(text)) return text;
    }
  } finally {
    await pty.close();
  }
  throw new Error(`no ${expected} in the guest's serial output within 60 s:\n${text.slice(-3000)}`);
}

test('services: the exhibit guest resolves a configured name and gets its mock, again after a daemon restart; other names get NXDOMAIN', async () => {
  const name = `${NAME}-net`;
  const file = join(dir, 'net.yaml');
  const services = 'services:\n  artwork.example:\n    mock:\n      - path: /hello\n        body: HELLO-FROM-MOCK\n';
  await writeFile(file, config().replace(`name: ${NAME}`, `name: ${name}`) + services);
  const log = join(exhibitDirectory(), `${name}.serial.log`);
  // The tags are written "T""n" so that the shell's echo of the command line doesn't match them.
  const ask = (tag: string) =>
    `nslookup artwork.example 192.168.122.1 2>&1 | sed "s/^/${tag}-DNS /"; nslookup gone.example 192.168.122.1 2>&1 | sed "s/^/${tag}-NX /"; ` +
    `printf 'GET /hello HTTP/1.0\\r\\nHost: artwork.example\\r\\n\\r\\n' | timeout 5 nc 192.168.122.1 80 | sed "s/^/${tag}-WEB /"`;
  try {
    for (const tag of ['1', '2']) {
      const d = new DaemonProcess(file);
      const url = await d.url(180_000);
      await healthy(d, url);
      const from = (await readFile(log, 'utf8')).length;
      const out = await inGuest(name, ask(`T""${tag}`), new RegExp(`T${tag}-WEB HELLO-FROM-MOCK`), from);
      expect(out).toMatch(new RegExp(`T${tag}-DNS Address: 192\\.168\\.122\\.1`));
      expect(out).toMatch(new RegExp(`T${tag}-NX .*NXDOMAIN`));
      // The daemon stops; the VM and its network stay for the next one, which serves the map again.
      expect(await d.stop('SIGTERM'), d.log).toBe(0);
    }
    const requests = await readFile(join(exhibitDirectory(), `${name}.requests.jsonl`), 'utf8');
    expect(requests.split('\n').filter((l) => l.includes('"served"') && l.includes('/hello'))).toHaveLength(2);
    expect(requests).toMatch(/gone\.example.*"refused"/);
  } finally {
    await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'exhibit', 'remove', '--config', file], { reject: false });
  }
  expect(await domains()).not.toContain(name);
});
