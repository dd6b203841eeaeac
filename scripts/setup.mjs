#!/usr/bin/env node
// demotool host setup. Idempotent; Node built-ins only, because it runs before node_modules exists.
//   node scripts/setup.mjs [--desktop] [--bench] [--no-images]
// Installs missing OS packages, makes libvirtd ready, installs npm dependencies, builds the
// package, and builds/caches the built-in images (tiny always, debian-12-desktop with --desktop).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const isRoot = process.getuid?.() === 0;
const hasSystemd = existsSync('/run/systemd/system');
const t0 = Date.now();

const say = (msg) => console.log(`[setup] ${msg}`);
const fail = (msg) => {
  console.error(`[setup] ERROR: ${msg}`);
  process.exit(1);
};
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: opts.quiet ? 'pipe' : 'inherit', encoding: 'utf8', cwd: root, ...opts });
  return { ok: r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? ''), status: r.status };
}
const have = (cmd) => run('sh', ['-c', `command -v ${cmd}`], { quiet: true }).ok;

const PACKAGES = {
  apt: {
    base: ['qemu-system-x86', 'qemu-utils', 'libvirt-daemon-system', 'libvirt-clients', 'ffmpeg', 'mmdebstrap',
      'debootstrap', 'guestfs-tools', 'busybox-static', 'linux-image-amd64', 'tesseract-ocr', 'tesseract-ocr-eng',
      'xz-utils', 'cpio', 'e2fsprogs', 'procps', 'fonts-dejavu-core', 'perl', 'uidmap', 'initramfs-tools-core',
      // the closed guest network (passt in a namespace of its own, socat relays to the watchdog)
      'passt', 'socat', 'iproute2', 'util-linux'],
    bench: ['vlc', 'vlc-plugin-access-extra'],
  },
  dnf: {
    base: ['qemu-system-x86', 'qemu-img', 'libvirt-daemon-kvm', 'libvirt-client', 'ffmpeg-free', 'mmdebstrap',
      'debootstrap', 'guestfs-tools', 'busybox', 'kernel-core', 'tesseract', 'tesseract-langpack-eng', 'xz', 'cpio',
      'e2fsprogs', 'procps-ng', 'passt', 'socat', 'iproute', 'util-linux'],
    bench: ['vlc'],
  },
};

function osFamily() {
  const release = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const ids = (release.match(/^ID(?:_LIKE)?=(.*)$/gm) ?? []).join(' ');
  if (/debian|ubuntu/.test(ids)) return 'apt';
  if (/fedora|rhel|centos/.test(ids)) return 'dnf';
  return undefined;
}

function missingPackages(family, wanted) {
  if (family === 'apt')
    return wanted.filter((p) => !run('dpkg-query', ['-W', '-f=${Status}', p], { quiet: true }).out.includes('install ok installed'));
  return wanted.filter((p) => !run('rpm', ['-q', p], { quiet: true }).ok);
}

function installOsPackages() {
  const family = osFamily();
  if (!family) return say('unknown OS: install qemu, libvirt, ffmpeg, mmdebstrap, busybox, a kernel and tesseract yourself');
  const wanted = [...PACKAGES[family].base, ...(args.has('--bench') ? PACKAGES[family].bench : [])];
  const missing = missingPackages(family, wanted);
  if (missing.length === 0) return say('OS packages: all present');
  const cmd = family === 'apt'
    ? `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`
    : `dnf install -y ${missing.join(' ')}`;
  if (!isRoot) fail(`missing OS packages: ${missing.join(' ')}\n  run as root:\n    sudo sh -c '${cmd}'\n  then run this again.`);
  say(`installing OS packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (family === 'apt') {
    if (!run('apt-get', ['update', '-q'], { env }).ok) fail('apt-get update failed (see above)');
    if (!run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env }).ok) fail('apt-get install failed (see above)');
  } else if (!run('dnf', ['install', '-y', ...missing]).ok) fail('dnf install failed (see above)');
}

// Without these, libvirt re-probes QEMU at every domain start (56 s instead of 0.4 s) when run as root.
function configureLibvirt() {
  const conf = '/etc/libvirt/qemu.conf';
  if (!isRoot || hasSystemd || !existsSync(conf)) return;
  const text = readFileSync(conf, 'utf8');
  if (/^user = "root"$/m.test(text) && /^group = "root"$/m.test(text)) return say('libvirt: qemu.conf already runs QEMU as root');
  const next = text.replace(/^#?\s*user = .*$/m, 'user = "root"').replace(/^#?\s*group = .*$/m, 'group = "root"');
  writeFileSync(conf, /^user = "root"$/m.test(next) ? next : `${next}\nuser = "root"\ngroup = "root"\n`);
  say('libvirt: set user = "root" and group = "root" in /etc/libvirt/qemu.conf (root, no systemd: avoids a 56 s QEMU re-probe per start)');
  if (run('pgrep', ['-x', 'libvirtd'], { quiet: true }).ok) {
    run('pkill', ['-x', 'libvirtd'], { quiet: true });
    spawnSync('sleep', ['1']);
  }
}

function startLibvirt() {
  const uri = process.env.DEMOTOOL_LIBVIRT_URI || 'qemu:///session';
  if (run('virsh', ['-c', uri, 'version'], { quiet: true }).ok) return say(`libvirt: ${uri} answers`);
  if (hasSystemd) {
    if (!isRoot) fail(`libvirt does not answer at ${uri}: run  sudo systemctl start libvirtd virtlogd`);
    run('systemctl', ['start', 'virtlogd', 'libvirtd']);
  } else {
    if (!isRoot) fail(`libvirt does not answer at ${uri}: start it as root:  virtlogd -d; libvirtd -d`);
    if (!run('pgrep', ['-x', 'virtlogd'], { quiet: true }).ok) run('virtlogd', ['-d']);
    if (!run('pgrep', ['-x', 'libvirtd'], { quiet: true }).ok) run('libvirtd', ['-d']);
    say('libvirt: started virtlogd and libvirtd (no systemd on this machine)');
  }
  for (let i = 0; i < 40; i++) {
    if (run('virsh', ['-c', uri, 'version'], { quiet: true }).ok) return say(`libvirt: ${uri} answers`);
    spawnSync('sleep', ['0.5']);
  }
  fail(`libvirt does not answer at ${uri} after starting it; see /var/log/libvirt/ and \`demotool doctor\``);
}

function newer(a, b) {
  return existsSync(a) && (!existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs);
}

function installNpmDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && !newer(join(root, 'package-lock.json'), marker) && !newer(join(root, 'package.json'), marker))
    return say('npm dependencies: up to date');
  say('installing npm dependencies (npm ci)');
  const cmd = existsSync(join(root, 'package-lock.json')) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  if (!run('npm', cmd).ok) fail('npm install failed (see above)');
}

function build() {
  say('building the package (tsc)');
  if (!run('npx', ['tsc', '-p', 'tsconfig.json']).ok) fail('TypeScript build failed (see above)');
}

function buildImages() {
  if (args.has('--no-images')) return;
  const names = ['tiny', ...(args.has('--desktop') ? ['debian-12-desktop'] : [])];
  for (const name of names) {
    if (!run('node', [join(root, 'dist/src/cli/main.js'), 'images', 'build', name]).ok) fail(`building the ${name} image failed (see above)`);
  }
}

installOsPackages();
configureLibvirt();
startLibvirt();
installNpmDependencies();
build();
buildImages();
say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
