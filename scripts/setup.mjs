#!/usr/bin/env node
// The repository's setup (`npm run setup`, and `npm test`'s pretest). Idempotent; Node
// built-ins only, because it runs before node_modules exists.
//   node scripts/setup.mjs [--desktop] [--bench] [--no-images] [--yes]
// The host part (OS packages, qemu.conf, libvirtd, images) is host-setup.mjs, the same code
// `npx demotool setup` runs; in between, this installs the npm dependencies and builds the
// package, since the images are built with the built CLI.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImages, fail, prepareHost, ready, run, say } from './host-setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;

function newer(a, b) {
  return existsSync(a) && (!existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs);
}

function installNpmDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && !newer(join(root, 'package-lock.json'), marker) && !newer(join(root, 'package.json'), marker))
    return say('npm dependencies: up to date');
  say('installing npm dependencies (npm ci)');
  const cmd = existsSync(join(root, 'package-lock.json')) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  const ok = run('npm', cmd).ok;
  giveBackToSudoUser(['node_modules', 'package-lock.json']);
  if (!ok) fail('npm install failed (see above)');
}

function build() {
  say('building the package (tsc)');
  const ok = run('npx', ['tsc', '-p', 'tsconfig.json']).ok;
  giveBackToSudoUser(['dist']);
  if (!ok) fail('TypeScript build failed (see above)');
}

/** Run as root through sudo in someone's checkout: what npm and tsc wrote goes back to them. */
function giveBackToSudoUser(paths) {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID ?? process.env.SUDO_UID);
  if (!isRoot || !Number.isInteger(uid) || uid === 0 || !Number.isInteger(gid)) return;
  if (statSync(join(root, 'package.json')).uid !== uid) return; // not their checkout
  const present = paths.filter((p) => existsSync(join(root, p)));
  if (present.length === 0) return;
  if (run('chown', ['-R', `${uid}:${gid}`, ...present], { quiet: true }).ok)
    say(`gave ${present.join(', ')} back to uid ${uid} (setup ran as root through sudo)`);
  else say(`could not give ${present.join(', ')} back to uid ${uid}: run  sudo chown -R ${uid}:${gid} ${present.join(' ')}`);
}

// The repository's setup prepares for its own tests too: a real browser and systemd-analyze.
prepareHost('npm run setup --', { forTests: true });
installNpmDependencies();
build();
buildImages();
ready();
