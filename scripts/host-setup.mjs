#!/usr/bin/env node
// demotool host setup: what `npx demotool setup` runs, and the host part of the repository's
// `npm run setup` (scripts/setup.mjs). Idempotent; Node built-ins only.
//   node scripts/host-setup.mjs [--desktop] [--bench] [--no-images] [--yes]
// Installs missing OS packages, makes libvirtd ready, and builds/caches the built-in images
// (tiny always, debian-12-desktop with --desktop) with the package's own CLI. It never touches
// a project's node_modules and never compiles TypeScript: the package ships dist/.
//
// It changes the host only where it must, and says so. Installing OS packages, starting
// libvirtd and editing qemu.conf happen only with --yes (or DEMOTOOL_SETUP_YES=1); without it,
// setup prints the exact commands and stops.
// qemu.conf gets one marked block at its end, after a backup, and never where the admin set
// user/group; only a libvirtd that setup itself started is ever restarted.
// The paths and flags it acts on are one `host` object (hostOf): tests pass temp paths and a PATH
// of fake commands, so they never touch this host's configuration.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BACKUP_SUFFIX, BLOCK_END, BLOCK_START, applyQemuConf } from './qemu-conf.mjs';
import { bootKernels, bootableDiskPackages, browserPackages, busyboxState, osIds, tinyPackages, unitCheckPackages } from './host-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const t0 = Date.now();

/**
 * What setup acts on: this host's paths and the command line's flags, unless overridden.
 * `rerun`: how the user runs setup again, for the messages (`npm run setup --` in the repository).
 * `env`: the commands' environment (its PATH finds them).
 */
export function hostOf(overrides = {}) {
  return {
    qemuConf: '/etc/libvirt/qemu.conf',
    // Where setup notes the libvirtd it started (a pid means nothing after a reboot: /run is emptied).
    libvirtdNote: '/run/demotool/setup-libvirtd.json',
    // What libvirtd writes, in the foreground or with -d.
    libvirtdPidFile: '/run/libvirtd.pid',
    // Runs a libvirtd setup starts, where no systemd does (startUnderSubreaper); undefined: `libvirtd -d`.
    subreaper: 'tini',
    osRelease: '/etc/os-release',
    isRoot: process.getuid?.() === 0,
    hasSystemd: existsSync('/run/systemd/system'),
    yes: args.has('--yes') || args.has('-y') || /^(1|true|yes)$/i.test(process.env.DEMOTOOL_SETUP_YES ?? ''),
    bench: args.has('--bench'),
    rerun: 'npx demotool setup',
    env: process.env,
    ...overrides,
  };
}

export const say = (msg) => console.log(`[setup] ${msg}`);
/** Setup stops: what to tell the user is the message; the entry point prints it and exits 1 (setupMain). */
export class SetupStop extends Error {}
export const fail = (msg) => {
  throw new SetupStop(`[setup] ERROR: ${msg}`);
};
/** Runs a command from the package root; `quiet` captures its output instead of showing it. */
export function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: opts.quiet ? 'pipe' : 'inherit', encoding: 'utf8', cwd: root, ...opts });
  return { ok: r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? ''), status: r.status };
}

/** Runs the setup steps; a SetupStop is printed and ends the process with status 1. */
export function setupMain(steps) {
  try {
    steps();
  } catch (e) {
    if (!(e instanceof SetupStop)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}

/** Host changes need the user's yes: without it, stop with the exact commands to run. */
function consent(host, what, commands) {
  if (host.yes) return;
  throw new SetupStop(
    [
      `[setup] ${what}: this changes the host, so setup stops here. Run it yourself:`,
      ...commands.map((c) => `    ${c}`),
      `  then run setup again; or let setup do it: add --yes (\`${host.rerun} --yes\`) or set DEMOTOOL_SETUP_YES=1.`,
    ].join('\n'),
  );
}

/**
 * /proc/PID/stat field 22 (start time): with the pid, it names one process for good. undefined
 * once it has exited, zombies included (where PID 1 does not reap, as in some containers).
 */
function processStart(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
    return after[0] === 'Z' ? undefined : after[22 - 3];
  } catch {
    return undefined;
  }
}

function processName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const PACKAGES = {
  apt: {
    base: [
      'qemu-system-x86',
      'qemu-utils',
      'libvirt-daemon-system',
      'libvirt-clients',
      'ffmpeg',
      'mmdebstrap',
      'debootstrap',
      'guestfs-tools',
      'tesseract-ocr',
      'tesseract-ocr-eng',
      'xz-utils',
      'cpio',
      'e2fsprogs',
      'procps',
      'fonts-dejavu-core',
      'perl',
      'uidmap',
      'initramfs-tools-core',
      // the closed guest network (passt in a namespace of its own, socat relays to the watchdog)
      'passt',
      'socat',
      'iproute2',
      'util-linux',
      // UEFI firmware for the 'uefi' hardware profile
      'ovmf',
      // reaps the QEMU processes a libvirtd started by setup leaves, where PID 1 doesn't (startUnderSubreaper)
      'tini',
    ],
    bench: ['vlc', 'vlc-plugin-access-extra'],
  },
  dnf: {
    base: [
      'qemu-system-x86',
      'qemu-img',
      'libvirt-daemon-kvm',
      'libvirt-client',
      'ffmpeg-free',
      'mmdebstrap',
      'debootstrap',
      'guestfs-tools',
      'tesseract',
      'tesseract-langpack-eng',
      'xz',
      'cpio',
      'e2fsprogs',
      'procps-ng',
      'passt',
      'socat',
      'iproute',
      'util-linux',
      'edk2-ovmf',
    ],
    bench: ['vlc'],
  },
};
// The tiny image's kernel (/boot/vmlinuz-*) and static /bin/busybox come from the host: their
// packages are chosen from what is there (host-packages.mjs).

function osRelease(host) {
  return existsSync(host.osRelease) ? readFileSync(host.osRelease, 'utf8') : '';
}

function osFamily(release) {
  const ids = (release.match(/^ID(?:_LIKE)?=(.*)$/gm) ?? []).join(' ');
  if (/debian|ubuntu/.test(ids)) return 'apt';
  if (/fedora|rhel|centos/.test(ids)) return 'dnf';
  return undefined;
}

function missingPackages(host, family, wanted) {
  const opts = { quiet: true, env: host.env };
  if (family === 'apt') return wanted.filter((p) => !run('dpkg-query', ['-W', '-f=${Status}', p], opts).out.includes('install ok installed'));
  return wanted.filter((p) => !run('rpm', ['-q', p], opts).ok);
}

/** forTests: also what demotool's own tests use (Debian's chromium, systemd-analyze); a user's `npx demotool setup` needs neither. */
export function installOsPackages(host, forTests = false) {
  const release = osRelease(host);
  const family = osFamily(release);
  if (!family) return say('unknown OS: install qemu, libvirt, ffmpeg, mmdebstrap, a static busybox, a kernel and tesseract yourself');
  const tiny = tinyPackages({ family, ids: osIds(release), kernels: bootKernels(), busybox: busyboxState() });
  const none = { install: [], notes: [] };
  const browser = forTests ? browserPackages({ family, ids: osIds(release) }) : none;
  const unitCheck = forTests ? unitCheckPackages({ family }) : none;
  const disks = forTests ? bootableDiskPackages({ family }) : none;
  for (const note of [...tiny.notes, ...browser.notes, ...unitCheck.notes]) say(note);
  const wanted = [
    ...PACKAGES[family].base,
    ...tiny.install,
    ...browser.install,
    ...unitCheck.install,
    ...disks.install,
    ...(host.bench ? PACKAGES[family].bench : []),
  ];
  const missing = missingPackages(host, family, wanted);
  if (missing.length === 0) return say('OS packages: all present');
  const replaces = tiny.replaces && missing.includes(tiny.replaces.package) ? tiny.replaces : undefined;
  const replaceNote = replaces ? `\n  note: ${replaces.package} replaces the ${replaces.removes} package (${replaces.why})` : '';
  const cmd =
    family === 'apt'
      ? `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`
      : `dnf install -y ${missing.join(' ')}`;
  if (!host.isRoot) fail(`missing OS packages: ${missing.join(' ')}${replaceNote}\n  run as root:\n    sudo sh -c '${cmd}'\n  then run this again.`);
  if (replaceNote) say(replaceNote.trim());
  consent(host, `missing OS packages: ${missing.join(' ')}`, [cmd]);
  say(`installing OS packages: ${missing.join(' ')}${replaces ? ` (removes ${replaces.removes})` : ''}`);
  const env = { ...host.env, DEBIAN_FRONTEND: 'noninteractive' };
  const before = libvirtdPids(host);
  if (family === 'apt') {
    if (!run('apt-get', ['update', '-q'], { env }).ok) fail('apt-get update failed (see above)');
    if (!run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env }).ok) fail('apt-get install failed (see above)');
  } else if (!run('dnf', ['install', '-y', ...missing], { env }).ok) fail('dnf install failed (see above)');
  // A libvirtd that the packages' install scripts just started was started by this setup too.
  const started = libvirtdPids(host).filter((pid) => !before.includes(pid));
  if (started.length === 1) noteOwnLibvirtd(host, started[0]);
}

function libvirtdPids(host) {
  const r = run('pgrep', ['-x', 'libvirtd'], { quiet: true, env: host.env });
  return r.ok ? r.out.trim().split(/\s+/).map(Number).filter(Number.isInteger) : [];
}

// As root without systemd, libvirt re-probes QEMU at every domain start (56 s instead of 0.4 s)
// unless QEMU runs as root: qemu.conf gets a marked block at its end (qemu-conf.mjs).
export function configureLibvirt(host) {
  const conf = host.qemuConf;
  if (!host.isRoot || host.hasSystemd || !existsSync(conf)) return;
  const plan = applyQemuConf(conf, { dryRun: true });
  if (plan.action === 'ok') return say(`libvirt: ${plan.reason}`);
  if (plan.action === 'admin') {
    say(`libvirt: ${plan.reason}`);
    say(`  ${plan.advice}`);
  }
  if (!plan.wouldChange) return;
  if (!host.yes) {
    for (const note of plan.notes ?? []) say(`libvirt: with --yes, setup would also ${note}`);
    if (plan.text.includes(BLOCK_START)) {
      say(`libvirt: QEMU should run as root here (root, no systemd: else about a minute per VM start). With --yes, setup appends to ${conf}`);
      say(`  (backup: ${conf}${BACKUP_SUFFIX}):\n    ${BLOCK_START}\n    user = "root"\n    group = "root"\n    ${BLOCK_END}`);
    } else say(`libvirt: with --yes, setup removes its own block from ${conf} (your settings stay; backup: ${conf}${BACKUP_SUFFIX})`);
    return;
  }
  const done = applyQemuConf(conf);
  if (!done.changed) return;
  for (const note of done.notes ?? []) say(`libvirt: ${conf}: ${note}`);
  if (done.text.includes(BLOCK_START)) {
    say(`libvirt: appended a marked demotool block to ${conf}: user = "root", group = "root" (QEMU runs as root; avoids a 56 s re-probe per VM start)`);
    say(`  backup: ${done.backup}; to undo, delete the lines from "${BLOCK_START.slice(0, 22)}..." to "${BLOCK_END}"`);
  } else say(`libvirt: updated ${conf} (backup: ${done.backup})`);
  if (done.before.user !== done.after.user || done.before.group !== done.after.group) restartOwnLibvirtd(host);
}

/** The libvirtd setup started earlier (pid and start time match its note), else undefined. */
function ownLibvirtd(host) {
  try {
    const { pid, start } = JSON.parse(readFileSync(host.libvirtdNote, 'utf8'));
    if (Number.isInteger(pid) && processName(pid) === 'libvirtd' && processStart(pid) === start) return pid;
  } catch {
    // no note, or an unreadable one: not ours
  }
  return undefined;
}

/** Notes a libvirtd that setup started (its pid file), so that only it is ever restarted. */
function noteOwnLibvirtd(host, known) {
  const pidFile = host.libvirtdPidFile;
  for (let i = 0; i < 20; i++) {
    const pid = known ?? Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : NaN);
    if (Number.isInteger(pid) && processName(pid) === 'libvirtd') {
      try {
        mkdirSync(dirname(host.libvirtdNote), { recursive: true });
        writeFileSync(host.libvirtdNote, JSON.stringify({ pid, start: processStart(pid) }) + '\n');
      } catch (e) {
        say(`libvirt: could not note the libvirtd setup started (${e.message}): it will not be restarted by setup`);
      }
      return;
    }
    spawnSync('sleep', ['0.25']);
  }
}

/** qemu.conf is read when libvirtd starts: restart it, if setup started it; else say what to do. */
function restartOwnLibvirtd(host) {
  const running = run('pgrep', ['-x', 'libvirtd'], { quiet: true, env: host.env });
  if (!running.ok) return; // started below, with the new settings
  const pid = ownLibvirtd(host);
  if (!pid) {
    say(`libvirt: libvirtd (pid ${running.out.trim().split('\n').join(', ')}) was not started by this setup, so it is left alone;`);
    say('  it reads qemu.conf when it starts: restart it yourself to apply the change (VMs keep running)');
    return;
  }
  say(`libvirt: restarting libvirtd (pid ${pid}, started by demotool setup) to apply qemu.conf`);
  const start = processStart(pid);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 60 && processStart(pid) === start; i++) spawnSync('sleep', ['0.25']);
  rmSync(host.libvirtdNote, { force: true });
}

export function startLibvirt(host) {
  const uri = host.env.DEMOTOOL_LIBVIRT_URI || 'qemu:///session';
  const quiet = { quiet: true, env: host.env };
  if (run('virsh', ['-c', uri, 'version'], quiet).ok) return say(`libvirt: ${uri} answers`);
  if (host.hasSystemd) {
    if (!host.isRoot) fail(`libvirt does not answer at ${uri}: run  sudo systemctl start libvirtd virtlogd`);
    consent(host, `libvirt does not answer at ${uri}`, ['systemctl start virtlogd libvirtd']);
    say('libvirt: starting virtlogd and libvirtd (systemctl start virtlogd libvirtd)');
    run('systemctl', ['start', 'virtlogd', 'libvirtd'], { env: host.env });
  } else {
    if (!host.isRoot) fail(`libvirt does not answer at ${uri}: start it as root:  virtlogd -d; libvirtd -d`);
    const start = [...(run('pgrep', ['-x', 'virtlogd'], quiet).ok ? [] : ['virtlogd']), ...(run('pgrep', ['-x', 'libvirtd'], quiet).ok ? [] : ['libvirtd'])];
    if (start.length) {
      const reaper = start.includes('libvirtd') && host.subreaper && run(host.subreaper, ['--version'], quiet).ok ? host.subreaper : undefined;
      consent(
        host,
        `libvirt does not answer at ${uri}`,
        start.map((d) => (d === 'libvirtd' && reaper ? `setsid ${reaper} -s -- libvirtd &` : `${d} -d`)),
      );
      for (const daemon of start) {
        if (daemon === 'libvirtd' && reaper) startUnderSubreaper(host, reaper);
        else run(daemon, ['-d'], { env: host.env });
      }
      if (start.includes('libvirtd')) noteOwnLibvirtd(host);
      say(`libvirt: started ${start.join(' and ')} (no systemd on this machine)`);
    }
  }
  for (let i = 0; i < 40; i++) {
    if (run('virsh', ['-c', uri, 'version'], quiet).ok) return say(`libvirt: ${uri} answers`);
    spawnSync('sleep', ['0.5']);
  }
  fail(`libvirt does not answer at ${uri} after starting it; see /var/log/libvirt/ and \`demotool doctor\``);
}

/**
 * libvirtd detaches each QEMU it starts, so an exited QEMU is reaped by PID 1. Where PID 1 never
 * reaps (containers), QEMU stays a zombie and libvirt waits for it to vanish: about 2 s on every
 * destroy, save and restarting revert. Under `tini -s` (a subreaper, libvirtd in its foreground)
 * the orphaned QEMU is reaped at once. tini ends with libvirtd.
 */
function startUnderSubreaper(host, reaper) {
  const child = spawn(reaper, ['-s', '--', 'libvirtd'], { detached: true, stdio: 'ignore', env: host.env, cwd: '/' });
  // A failed start shows as libvirt not answering, which setup reports.
  child.on('error', () => undefined);
  child.unref();
}

/** Builds (or validates, when cached) the built-in images with the package's CLI, as the user running setup. */
export function buildImages() {
  if (args.has('--no-images')) return;
  const cli = join(root, 'dist/src/cli/main.js');
  if (!existsSync(cli)) fail(`${cli} is missing: build the package first (\`npm run build\`)`);
  const names = ['tiny', ...(args.has('--desktop') ? ['debian-12-desktop'] : [])];
  for (const name of names) {
    if (!run(process.execPath, [cli, 'images', 'build', name]).ok) fail(`building the ${name} image failed (see above)`);
  }
}

/**
 * A host without a kernel (a container): libguestfs (virt-builder images) then boots a kernel
 * demotool unpacks into its cache, and supermin needs the host's /lib/modules to exist, empty
 * or not. Nothing else is put there.
 */
export function prepareModulesDir(host, { dir = '/lib/modules', kernels = bootKernels() } = {}) {
  if (kernels.length > 0 || existsSync(dir)) return;
  if (!host.isRoot) return say(`no kernel in /boot and no ${dir}: virt-builder images need ${dir} to exist (sudo mkdir ${dir})`);
  if (!host.yes) return say(`no kernel in /boot and no ${dir}: with --yes, setup creates the empty ${dir} that virt-builder images need`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  say(`created the empty ${dir}: libguestfs (virt-builder images) needs it; demotool unpacks a kernel into its cache for it`);
}

/** OS packages, qemu.conf and libvirtd. `command`: how the user runs setup, for the messages. */
export function prepareHost(command = 'npx demotool setup', { forTests = false } = {}) {
  const host = hostOf({ rerun: command });
  installOsPackages(host, forTests);
  prepareModulesDir(host);
  configureLibvirt(host);
  startLibvirt(host);
}

export function ready() {
  say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  setupMain(() => {
    prepareHost();
    buildImages();
    ready();
  });
}
