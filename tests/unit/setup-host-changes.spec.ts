import { test, expect } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs module (setup runs before node_modules and the build exist)
import { SetupStop, configureLibvirt, hostOf, installOsPackages, prepareModulesDir, startLibvirt } from '../../scripts/host-setup.mjs';

// Setup's host changes, against a temp qemu.conf, temp note and pid files, and fake commands first
// on PATH (pgrep sees only the fake libvirtd processes of this test): the host's own libvirtd and
// configuration are never touched.

const hostSetup = fileURLToPath(new URL('../../scripts/host-setup.mjs', import.meta.url));
const STOCK_CONF = '# The user for QEMU processes run by the system instance.\n#user = "libvirt-qemu"\n#group = "libvirt-qemu"\n';

/** The fake commands: each notes its call in $FAKE_DIR/calls. */
const FAKES: Record<string, string> = {
  // Only this test's fake daemons: comm NAME, and this test's directory on the command line.
  pgrep: `[ "$1" = -x ] || exit 2
found=1
for p in $(PATH="\${PATH#*:}" pgrep -x "$2"); do # the real pgrep: this bin directory is first on PATH
  tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -qF "$FAKE_DIR" || continue
  echo $p; found=0
done
exit $found`,
  // `libvirtd -d` daemonizes and writes its pid file, as the real one does; so does one in the foreground (under tini).
  libvirtd: `if [ "$1" = -d ]; then
  nohup "$0" --foreground >/dev/null 2>&1 &
  echo $! > "$FAKE_DIR/libvirtd.pid"
  exit 0
fi
[ "$1" = --foreground ] || echo $$ > "$FAKE_DIR/libvirtd.pid"
# Short sleeps: a sleep orphaned by a SIGKILL ends within a second.
trap 'kill $child 2>/dev/null; exit 0' TERM
while :; do sleep 1 & child=$!; wait $child; done`,
  virtlogd: 'exit 0',
  // tini -s -- CMD: runs CMD in the foreground (the real one also becomes a subreaper and reaps orphans).
  tini: `[ "$1" = --version ] && { echo 'tini version 0.19.0'; exit 0; }
[ "$1" = -s ] && [ "$2" = -- ] || exit 2
shift 2; exec "$@"`,
  // libvirt answers while the daemon setup started (its pid file) runs.
  virsh: `pid=$(cat "$FAKE_DIR/libvirtd.pid" 2>/dev/null) && [ -n "$pid" ] || exit 1
state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null); [ -n "$state" ] && [ "$state" != Z ]`,
  systemctl: 'exit 0',
  pkill: 'exit 0',
  killall: 'exit 0',
  // Installed, except what $FAKE_MISSING names.
  'dpkg-query': `for m in $FAKE_MISSING; do [ "$3" = "$m" ] && { echo "dpkg-query: no packages found matching $3" >&2; exit 1; }; done
echo 'install ok installed'`,
  // A package's install script may start libvirtd (libvirt-daemon-system's does).
  'apt-get': '[ "$1" = install ] && [ -n "$FAKE_APT_STARTS_LIBVIRTD" ] && libvirtd -d; exit 0',
  dnf: 'exit 0',
};

let dir: string;
let env: NodeJS.ProcessEnv;
let started: ChildProcess[];
test.beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'setup-host-'));
  await fs.mkdir(path.join(dir, 'bin'));
  for (const [name, body] of Object.entries(FAKES))
    await fs.writeFile(path.join(dir, 'bin', name), `#!/bin/sh\necho "${name} $*" >> "$FAKE_DIR/calls"\n${body}\n`, { mode: 0o755 });
  await fs.writeFile(path.join(dir, 'qemu.conf'), STOCK_CONF);
  await fs.writeFile(path.join(dir, 'os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
  env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, FAKE_DIR: dir, DEMOTOOL_LIBVIRT_URI: 'qemu:///system' };
  delete env.DEMOTOOL_SETUP_YES;
  started = [];
});
test.afterEach(async () => {
  const daemons = fakeDaemons();
  for (const pid of daemons) process.kill(pid, 'SIGTERM');
  await expect.poll(() => daemons.filter(alive)).toEqual([]);
  for (const child of started) child.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

/** A host like a root shell in a container: no systemd; everything setup writes is in the test's directory. */
function host(overrides: Record<string, unknown> = {}) {
  return hostOf({
    qemuConf: path.join(dir, 'qemu.conf'),
    libvirtdNote: path.join(dir, 'run/setup-libvirtd.json'),
    libvirtdPidFile: path.join(dir, 'libvirtd.pid'),
    osRelease: path.join(dir, 'os-release'),
    isRoot: true,
    hasSystemd: false,
    yes: false,
    bench: false,
    rerun: 'npm run setup --',
    // `libvirtd -d`, unless a test asks for the subreaper.
    subreaper: undefined,
    env,
    ...overrides,
  });
}

/** This test's fake libvirtd processes still running (the fake pgrep). */
function fakeDaemons(): number[] {
  const r = spawnSync('pgrep', ['-x', 'libvirtd'], { env, encoding: 'utf8' });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** A libvirtd that someone else started: a fake one, this test's child. */
async function foreignLibvirtd(): Promise<number> {
  const child = spawn(path.join(dir, 'bin/libvirtd'), ['--foreground'], { env, stdio: 'ignore' });
  started.push(child);
  await expect.poll(() => fakeDaemons()).toContain(child.pid);
  return child.pid as number;
}

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3] as string;
}

/** Running, and not a zombie (where PID 1 does not reap orphans, as in some containers, a dead daemon stays one). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function calls(): Promise<string[]> {
  return (await fs.readFile(path.join(dir, 'calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

const daemonCalls = async () => (await calls()).filter((c) => /^(libvirtd -d|virtlogd|systemctl|pkill|killall|apt-get|dnf)\b/.test(c));

/** What setup says (console.log) while `fn` runs. */
function said(fn: () => void): string {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    fn();
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

/** The SetupStop that `fn` throws: the message setup prints before it exits with status 1. */
function stop(fn: () => void): string {
  try {
    said(fn);
  } catch (e) {
    expect(e).toBeInstanceOf(SetupStop);
    return (e as Error).message;
  }
  throw new Error('setup went on: it was expected to stop');
}

test.describe('libvirtd: setup restarts only a libvirtd it started itself', () => {
  test('setup starts libvirtd, notes it (pid and start time), and restarts that one when it changes qemu.conf', async () => {
    const h = host({ yes: true });
    expect(said(() => startLibvirt(h))).toContain('libvirt: started virtlogd and libvirtd (no systemd on this machine)');
    const pid = Number(await fs.readFile(path.join(dir, 'libvirtd.pid'), 'utf8'));
    expect(JSON.parse(await fs.readFile(h.libvirtdNote, 'utf8'))).toEqual({ pid, start: startTime(pid) });

    const out = said(() => configureLibvirt(h));
    expect(out).toContain(`libvirt: restarting libvirtd (pid ${pid}, started by demotool setup) to apply qemu.conf`);
    expect(alive(pid)).toBe(false);
    await expect(fs.access(h.libvirtdNote)).rejects.toThrow(); // that libvirtd is gone, and so is its note
    expect(await fs.readFile(h.qemuConf, 'utf8')).toContain('user = "root"');

    // The rest of the restart: setup starts it again, with the new settings, and notes the new one.
    said(() => startLibvirt(h));
    const again = Number(await fs.readFile(path.join(dir, 'libvirtd.pid'), 'utf8'));
    expect(again).not.toBe(pid);
    expect(JSON.parse(await fs.readFile(h.libvirtdNote, 'utf8'))).toEqual({ pid: again, start: startTime(again) });
    expect(await daemonCalls()).toEqual(['virtlogd -d', 'libvirtd -d', 'virtlogd -d', 'libvirtd -d']); // no pkill, no killall
  });

  test('a libvirtd setup did not start is left alone, whatever the note says', async () => {
    const foreign = await foreignLibvirtd();
    const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    started.push(sleeper);
    await expect.poll(() => alive(sleeper.pid as number)).toBe(true);
    const notes: Record<string, string | undefined> = {
      'no note': undefined,
      'its pid, another start time (a reused pid)': JSON.stringify({ pid: foreign, start: '1' }),
      'a process that is not libvirtd': JSON.stringify({ pid: sleeper.pid, start: startTime(sleeper.pid as number) }),
      'an unreadable note': '{"pid":',
    };
    for (const [what, note] of Object.entries(notes)) {
      await fs.writeFile(path.join(dir, 'qemu.conf'), STOCK_CONF);
      await fs.rm(path.join(dir, 'run'), { recursive: true, force: true });
      if (note !== undefined) {
        await fs.mkdir(path.join(dir, 'run'));
        await fs.writeFile(path.join(dir, 'run/setup-libvirtd.json'), note);
      }
      const h = host({ yes: true });
      const out = said(() => configureLibvirt(h));
      expect(await fs.readFile(h.qemuConf, 'utf8'), what).toContain('user = "root"');
      expect(out, what).toContain(`libvirt: libvirtd (pid ${foreign}) was not started by this setup, so it is left alone;`);
      expect(out, what).toContain('restart it yourself to apply the change');
      expect(alive(foreign), what).toBe(true);
      expect(alive(sleeper.pid as number), what).toBe(true);
      if (note !== undefined) expect(await fs.readFile(h.libvirtdNote, 'utf8'), what).toBe(note);
    }
    expect(await daemonCalls()).toEqual([]);
  });

  test("a libvirtd that the OS packages' install started is setup's; the one running before is not", async () => {
    const foreign = await foreignLibvirtd();
    env.FAKE_MISSING = 'libvirt-daemon-system';
    env.FAKE_APT_STARTS_LIBVIRTD = '1';
    const h = host({ yes: true });
    said(() => installOsPackages(h));
    const ours = Number(await fs.readFile(path.join(dir, 'libvirtd.pid'), 'utf8'));
    expect(ours).not.toBe(foreign);
    expect(JSON.parse(await fs.readFile(h.libvirtdNote, 'utf8'))).toEqual({ pid: ours, start: startTime(ours) });

    expect(said(() => configureLibvirt(h))).toContain(`restarting libvirtd (pid ${ours}, started by demotool setup)`);
    expect(alive(ours)).toBe(false);
    expect(alive(foreign)).toBe(true);
    expect(await daemonCalls()).toEqual(['apt-get update -q', 'apt-get install -y -q --no-install-recommends libvirt-daemon-system', 'libvirtd -d']);
  });
});

test.describe('without --yes, where the only way on changes the host: the exact command, and a stop', () => {
  test('missing OS packages: the apt-get command, nothing installed; with --yes, that install', async () => {
    env.FAKE_MISSING = 'ffmpeg passt';
    const message = stop(() => installOsPackages(host()));
    expect(message.split('\n')).toEqual([
      '[setup] missing OS packages: ffmpeg passt: this changes the host, so setup stops here. Run it yourself:',
      '    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg passt',
      '  then run setup again; or let setup do it: add --yes (`npm run setup -- --yes`) or set DEMOTOOL_SETUP_YES=1.',
    ]);
    expect(await daemonCalls()).toEqual([]);

    // Not root: the same command, for sudo.
    expect(stop(() => installOsPackages(host({ isRoot: false })))).toContain(
      "sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg passt'",
    );
    expect(await daemonCalls()).toEqual([]);

    said(() => installOsPackages(host({ yes: true })));
    expect(await daemonCalls()).toEqual(['apt-get update -q', 'apt-get install -y -q --no-install-recommends ffmpeg passt']);
  });

  test('libvirt does not answer, no systemd: `virtlogd -d` and `libvirtd -d`, neither run', async () => {
    const message = stop(() => startLibvirt(host()));
    expect(message.split('\n')).toEqual([
      '[setup] libvirt does not answer at qemu:///system: this changes the host, so setup stops here. Run it yourself:',
      '    virtlogd -d',
      '    libvirtd -d',
      '  then run setup again; or let setup do it: add --yes (`npm run setup -- --yes`) or set DEMOTOOL_SETUP_YES=1.',
    ]);
    expect(await daemonCalls()).toEqual([]);
    expect(fakeDaemons()).toEqual([]);
    await expect(fs.access(path.join(dir, 'run'))).rejects.toThrow(); // no note either
  });

  test('no systemd and tini at hand: libvirtd runs in the foreground under `tini -s` (it reaps the QEMUs libvirtd leaves), and is noted', async () => {
    const message = stop(() => startLibvirt(host({ subreaper: 'tini' })));
    expect(message.split('\n').slice(1, 3)).toEqual(['    virtlogd -d', '    setsid tini -s -- libvirtd &']);
    expect(fakeDaemons()).toEqual([]);

    const h = host({ subreaper: 'tini', yes: true });
    expect(said(() => startLibvirt(h))).toContain('libvirt: started virtlogd and libvirtd (no systemd on this machine)');
    expect(await daemonCalls()).toEqual(['virtlogd -d']); // no `libvirtd -d`
    expect(await calls()).toContain('tini -s -- libvirtd');
    const pid = Number(await fs.readFile(path.join(dir, 'libvirtd.pid'), 'utf8'));
    expect(fakeDaemons()).toEqual([pid]);
    expect(JSON.parse(await fs.readFile(h.libvirtdNote, 'utf8'))).toEqual({ pid, start: startTime(pid) });
    // Detached: in a session of its own, so setup's end or a Ctrl-C in its terminal doesn't reach it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3])).toBe(pid);
  });

  test('a subreaper that is not installed: `libvirtd -d` as before', async () => {
    said(() => startLibvirt(host({ subreaper: 'no-such-tini', yes: true })));
    expect(await daemonCalls()).toEqual(['virtlogd -d', 'libvirtd -d']);
  });

  test('libvirt does not answer, with systemd: `systemctl start virtlogd libvirtd`, not run', async () => {
    const message = stop(() => startLibvirt(host({ hasSystemd: true })));
    expect(message).toContain('\n    systemctl start virtlogd libvirtd\n');
    expect(await daemonCalls()).toEqual([]);
  });

  test('the entry point prints the stop and exits with status 1', async () => {
    const overrides = { qemuConf: path.join(dir, 'qemu.conf'), libvirtdNote: path.join(dir, 'note.json'), libvirtdPidFile: path.join(dir, 'libvirtd.pid') };
    const script = `import { hostOf, setupMain, startLibvirt } from ${JSON.stringify(hostSetup)};
setupMain(() => startLibvirt(hostOf({ ...${JSON.stringify(overrides)}, isRoot: true, hasSystemd: false })));
console.log('not reached');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('not reached');
    // The default host runs libvirtd under tini (the fake one is on PATH).
    expect(r.stderr).toContain('Run it yourself:\n    virtlogd -d\n    setsid tini -s -- libvirtd &\n');
    expect(r.stderr).toContain('add --yes (`npx demotool setup --yes`)');
    expect(await daemonCalls()).toEqual([]);
  });

  test('qemu.conf without --yes: unchanged, no backup; setup says what --yes would append and goes on', async () => {
    const foreign = await foreignLibvirtd();
    const h = host();
    const out = said(() => configureLibvirt(h));
    expect(out).toContain(`With --yes, setup appends to ${h.qemuConf}`);
    expect(out).toContain('user = "root"\n    group = "root"');
    expect(await fs.readFile(h.qemuConf, 'utf8')).toBe(STOCK_CONF);
    expect(await fs.readdir(dir)).not.toContain('qemu.conf.demotool-backup');
    expect(alive(foreign)).toBe(true);
  });
});

test('a host without a kernel gets the empty /lib/modules libguestfs needs, only as root with --yes; a host with one is left alone', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dt-modules-'));
  try {
    const dir = path.join(tmp, 'lib', 'modules');
    prepareModulesDir({ isRoot: true, yes: true }, { dir, kernels: ['vmlinuz-6.1.0-56-amd64'] });
    expect(await fs.stat(dir).catch(() => undefined)).toBeUndefined();
    prepareModulesDir({ isRoot: false, yes: true }, { dir, kernels: [] });
    prepareModulesDir({ isRoot: true, yes: false }, { dir, kernels: [] });
    expect(await fs.stat(dir).catch(() => undefined)).toBeUndefined();
    prepareModulesDir({ isRoot: true, yes: true }, { dir, kernels: [] });
    expect(await fs.readdir(dir)).toEqual([]);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
