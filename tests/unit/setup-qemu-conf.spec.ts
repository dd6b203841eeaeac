import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: a plain .mjs module (setup runs before node_modules and the build exist)
import { BLOCK_END, BLOCK_START, applyQemuConf, effective, planQemuConf } from '../../scripts/qemu-conf.mjs';

// The user/group part of Debian 12's stock /etc/libvirt/qemu.conf (libvirt-daemon-system 9.0.0), verbatim.
const STOCK = `# If set to non-zero, then attempts to create unconfined
# guests will be blocked. Defaults to 0.
#security_require_confined = 1

# The user for QEMU processes run by the system instance. It can be
# specified as a user name or as a user id. The qemu driver will try to
# parse this value first as a name and then, if the name doesn't exist,
# as a user id.
#
# Since a sequence of digits is a valid user name, a leading plus sign
# can be used to ensure that a user id will not be interpreted as a user
# name.
#
# Some examples of valid values are:
#
#       user = "qemu"   # A user named "qemu"
#       user = "+0"     # Super user (uid=0)
#       user = "100"    # A user named "100" or a user with uid=100
#
#user = "libvirt-qemu"

# The group for QEMU processes run by the system instance. It can be
# specified in a similar way to user.
#group = "libvirt-qemu"

# Whether libvirt should dynamically change file ownership
# to match the configured user/group above. Defaults to 1.
# Set to 0 to disable file ownership changes.
#dynamic_ownership = 1
`;

// What the old setup made of it: the example comment became an active setting mid-block.
const OLD_SETUP_EDIT = STOCK.replace('#       user = "qemu"   # A user named "qemu"', 'user = "root"').replace('#group = "libvirt-qemu"', 'group = "root"');

let dir: string;
let conf: string;
test.beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qemu-conf-'));
  conf = path.join(dir, 'qemu.conf');
});
test.afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const count = (text: string, s: string) => text.split(s).length - 1;

test("an admin's own user/group setting: left unchanged, run twice, no backup", async () => {
  for (const admin of [
    STOCK.replace('#user = "libvirt-qemu"', 'user = "libvirt-qemu"'),
    STOCK.replace('#group = "libvirt-qemu"', 'group = "kvm"'),
    `${STOCK}\nuser = "+0"\ngroup = "root"\n`,
  ]) {
    await fs.writeFile(conf, admin);
    for (let run = 0; run < 2; run++) {
      const r = applyQemuConf(conf);
      expect(r.changed).toBe(false);
      expect(await fs.readFile(conf, 'utf8')).toBe(admin);
    }
    expect(await fs.readdir(dir)).toEqual(['qemu.conf']);
  }
  const r = planQemuConf(STOCK.replace('#user = "libvirt-qemu"', 'user = "libvirt-qemu"'));
  expect(r.action).toBe('admin');
  expect(r.advice).toMatch(/user = "root"/);
});

test('a stock qemu.conf, run twice: one marked block at the end, a backup of the stock file, comments untouched', async () => {
  await fs.writeFile(conf, STOCK);
  const first = applyQemuConf(conf);
  expect(first).toMatchObject({ changed: true, before: { user: undefined, group: undefined }, after: { user: 'root', group: 'root' } });
  const second = applyQemuConf(conf);
  expect(second.changed).toBe(false);
  const text = await fs.readFile(conf, 'utf8');
  expect(count(text, BLOCK_START)).toBe(1);
  expect(count(text, BLOCK_END)).toBe(1);
  expect(text.startsWith(STOCK)).toBe(true); // the stock text is kept as it was, the block follows it
  expect(text.slice(STOCK.length)).toBe(`\n${BLOCK_START}\nuser = "root"\ngroup = "root"\n${BLOCK_END}\n`);
  expect((await fs.readdir(dir)).sort()).toEqual(['qemu.conf', 'qemu.conf.demotool-backup']);
  expect(await fs.readFile(`${conf}.demotool-backup`, 'utf8')).toBe(STOCK);
  expect(effective(text)).toEqual({ user: 'root', group: 'root' });
});

test("the old setup's mid-comment edit is put back, and the marked block added instead", async () => {
  await fs.writeFile(conf, OLD_SETUP_EDIT);
  const r = applyQemuConf(conf);
  expect(r).toMatchObject({ changed: true, before: { user: 'root', group: 'root' }, after: { user: 'root', group: 'root' } });
  const text = await fs.readFile(conf, 'utf8');
  expect(text).toBe(`${STOCK}\n${BLOCK_START}\nuser = "root"\ngroup = "root"\n${BLOCK_END}\n`);
  expect(await fs.readFile(`${conf}.demotool-backup`, 'utf8')).toBe(OLD_SETUP_EDIT);
  expect(applyQemuConf(conf).changed).toBe(false);
});

test("an admin setting added after demotool's block: the block goes, the admin's setting stays", () => {
  const withBlock = planQemuConf(STOCK).text as string;
  const admin = `${withBlock}user = "libvirt-qemu"\n`;
  const r = planQemuConf(admin);
  expect(r.action).toBe('admin');
  expect(r.text).toBe(`${STOCK}user = "libvirt-qemu"\n`);
});

test('a dry run changes nothing', async () => {
  await fs.writeFile(conf, STOCK);
  const r = applyQemuConf(conf, { dryRun: true });
  expect(r).toMatchObject({ wouldChange: true, changed: false });
  expect(await fs.readFile(conf, 'utf8')).toBe(STOCK);
  expect(await fs.readdir(dir)).toEqual(['qemu.conf']);
});
