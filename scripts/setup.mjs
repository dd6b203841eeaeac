#!/usr/bin/env node
// The repository's setup (`npm run setup`, and `npm test`'s pretest). Idempotent; Node
// built-ins only, because it runs before node_modules exists.
//   node scripts/setup.mjs [--desktop] [--bench] [--no-images] [--yes]
// The host part (OS packages, qemu.conf, libvirtd, images) is host-setup.mjs, the same code
// `npx demotool setup` runs; in between, this installs the npm dependencies and builds the
// package, since the images are built with the built CLI.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildImages, fail, prepareHost, ready, run, say, setupMain } from './host-setup.mjs';

/**
 * The checkout setup works in, and as whom: this repository and this process, unless overridden
 * (tests pass a temp checkout and an env whose PATH finds fake npm, npx and chown).
 */
export function checkoutOf(overrides = {}) {
  return { root: join(dirname(fileURLToPath(import.meta.url)), '..'), isRoot: process.getuid?.() === 0, env: process.env, ...overrides };
}

function newer(a, b) {
  return existsSync(a) && (!existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs);
}

export function installNpmDependencies(checkout = checkoutOf()) {
  const { root, env } = checkout;
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && !newer(join(root, 'package-lock.json'), marker) && !newer(join(root, 'package.json'), marker))
    return say('npm dependencies: up to date');
  say('installing npm dependencies (npm ci)');
  const cmd = existsSync(join(root, 'package-lock.json')) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  const ok = run('npm', cmd, { cwd: root, env }).ok;
  giveBackToSudoUser(checkout, ['node_modules', 'package-lock.json']);
  if (!ok) fail('npm install failed (see above)');
}

export function build(checkout = checkoutOf()) {
  say('building the package (tsc)');
  const ok = run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: checkout.root, env: checkout.env }).ok;
  giveBackToSudoUser(checkout, ['dist']);
  if (!ok) fail('TypeScript build failed (see above)');
}

/** Run as root through sudo in someone's checkout: what npm and tsc wrote goes back to them. */
export function giveBackToSudoUser({ root, isRoot, env }, paths) {
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID ?? env.SUDO_UID);
  if (!isRoot || !Number.isInteger(uid) || uid === 0 || !Number.isInteger(gid)) return;
  if (statSync(join(root, 'package.json')).uid !== uid) return; // not their checkout
  const present = paths.filter((p) => existsSync(join(root, p)));
  if (present.length === 0) return;
  if (run('chown', ['-R', `${uid}:${gid}`, ...present], { quiet: true, cwd: root, env }).ok)
    say(`gave ${present.join(', ')} back to uid ${uid} (setup ran as root through sudo)`);
  else say(`could not give ${present.join(', ')} back to uid ${uid}: run  sudo chown -R ${uid}:${gid} ${present.join(' ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  setupMain(() => {
    // The repository's setup prepares for its own tests too: a real browser and systemd-analyze.
    prepareHost('npm run setup --', { forTests: true });
    installNpmDependencies();
    build();
    buildImages();
    ready();
  });
}
