import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain .mjs module (setup runs before node_modules and the build exist)
import { build, giveBackToSudoUser, installNpmDependencies } from '../../scripts/setup.mjs';
// @ts-expect-error: a plain .mjs module
import { SetupStop } from '../../scripts/host-setup.mjs';

// `sudo npm run setup` in someone's checkout: what npm and tsc wrote as root (node_modules, dist)
// goes back to SUDO_UID:SUDO_GID. A temp checkout; fake npm, npx and chown first on PATH.

const isRoot = process.getuid?.() === 0;
// The sudo user owns the checkout. As root, the test makes a stranger's (chown); else it is ours.
const user = isRoot ? { uid: 4242, gid: 4343 } : { uid: process.getuid?.() as number, gid: process.getgid?.() as number };

let dir: string;
let root: string;
let env: NodeJS.ProcessEnv;
test.beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'setup-sudo-'));
  root = path.join(dir, 'checkout');
  await fs.mkdir(path.join(dir, 'bin'), { recursive: true });
  await fs.mkdir(root);
  await fs.writeFile(path.join(root, 'package.json'), '{}\n');
  await fs.writeFile(path.join(root, 'package-lock.json'), '{}\n');
  if (isRoot) await fs.chown(path.join(root, 'package.json'), user.uid, user.gid);
  const fake = (name: string, body: string) =>
    fs.writeFile(path.join(dir, 'bin', name), `#!/bin/sh\necho "${name} $* (in $PWD)" >> "$FAKE_DIR/calls"\n${body}\n`, { mode: 0o755 });
  await fake('chown', 'exit ${FAKE_CHOWN_STATUS:-0}');
  // npm ci writes node_modules as whoever runs it; `npx tsc` writes dist.
  await fake('npm', 'mkdir -p node_modules/dep && echo {} > node_modules/.package-lock.json && echo x > node_modules/dep/index.js; exit ${FAKE_NPM_STATUS:-0}');
  await fake('npx', 'mkdir -p dist/src && echo x > dist/src/index.js');
  env = { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, FAKE_DIR: dir, SUDO_UID: String(user.uid), SUDO_GID: String(user.gid) };
});
test.afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function calls(): Promise<string[]> {
  return (await fs.readFile(path.join(dir, 'calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

const quietly = <T>(fn: () => T): T => {
  const log = console.log;
  console.log = () => undefined;
  try {
    return fn();
  } finally {
    console.log = log;
  }
};

test('as root through sudo: node_modules and dist go back to SUDO_UID:SUDO_GID, and only those present', async () => {
  await fs.mkdir(path.join(root, 'node_modules'));
  await fs.mkdir(path.join(root, 'dist'));
  quietly(() => giveBackToSudoUser({ root, isRoot: true, env }, ['node_modules', 'dist']));
  expect(await calls()).toEqual([`chown -R ${user.uid}:${user.gid} node_modules dist (in ${root})`]);

  await fs.rm(path.join(root, 'dist'), { recursive: true });
  quietly(() => giveBackToSudoUser({ root, isRoot: true, env }, ['node_modules', 'dist']));
  expect((await calls()).at(-1)).toBe(`chown -R ${user.uid}:${user.gid} node_modules (in ${root})`);

  // No SUDO_GID: the user's uid stands for the group, as sudo's own default group would.
  quietly(() => giveBackToSudoUser({ root, isRoot: true, env: { ...env, SUDO_GID: undefined } }, ['node_modules']));
  expect((await calls()).at(-1)).toBe(`chown -R ${user.uid}:${user.uid} node_modules (in ${root})`);
});

test('nothing is chowned when setup is not root through sudo, or the checkout is not the sudo user', async () => {
  await fs.mkdir(path.join(root, 'node_modules'));
  const cases: Record<string, [boolean, NodeJS.ProcessEnv]> = {
    'not root': [false, env],
    'root, not through sudo': [true, { ...env, SUDO_UID: undefined, SUDO_GID: undefined }],
    'sudo from root itself': [true, { ...env, SUDO_UID: '0', SUDO_GID: '0' }],
    'a garbled SUDO_UID': [true, { ...env, SUDO_UID: 'alice' }],
    "another user's checkout": [true, { ...env, SUDO_UID: String(user.uid + 1) }],
  };
  for (const [what, [root_, e]] of Object.entries(cases)) {
    quietly(() => giveBackToSudoUser({ root, isRoot: root_, env: e }, ['node_modules']));
    expect(await calls(), what).toEqual([]);
  }
  quietly(() => giveBackToSudoUser({ root, isRoot: true, env }, ['dist'])); // nothing there to give back
  expect(await calls()).toEqual([]);
});

test('a failed chown is said with the command to run, and setup goes on', async () => {
  await fs.mkdir(path.join(root, 'dist'));
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    giveBackToSudoUser({ root, isRoot: true, env: { ...env, FAKE_CHOWN_STATUS: '1' } }, ['dist']);
  } finally {
    console.log = log;
  }
  expect(lines).toEqual([`[setup] could not give dist back to uid ${user.uid}: run  sudo chown -R ${user.uid}:${user.gid} dist`]);
});

test('npm ci and the build, run as root through sudo, leave node_modules and dist owned by the sudo user (real chown)', async () => {
  test.skip(!isRoot, 'needs root: chowning to another user');
  const checkout = { root, isRoot: true, env };
  await fs.rm(path.join(dir, 'bin', 'chown')); // the real chown from here on
  quietly(() => installNpmDependencies(checkout));
  quietly(() => build(checkout));
  expect(await calls()).toEqual([`npm ci --no-audit --no-fund (in ${root})`, `npx tsc -p tsconfig.json (in ${root})`]);
  for (const p of ['node_modules', 'node_modules/.package-lock.json', 'node_modules/dep/index.js', 'package-lock.json', 'dist', 'dist/src/index.js']) {
    const st = await fs.stat(path.join(root, p));
    expect({ p, uid: st.uid, gid: st.gid }).toEqual({ p, uid: user.uid, gid: user.gid });
  }
});

test('a failed npm ci still gives back what it wrote, then stops', async () => {
  test.skip(!isRoot, 'needs root: chowning to another user');
  await fs.rm(path.join(dir, 'bin', 'chown'));
  const checkout = { root, isRoot: true, env: { ...env, FAKE_NPM_STATUS: '1' } };
  expect(() => quietly(() => installNpmDependencies(checkout))).toThrow(SetupStop);
  expect((await fs.stat(path.join(root, 'node_modules/dep/index.js'))).uid).toBe(user.uid);
});
