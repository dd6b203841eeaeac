// qemu.conf editing for scripts/setup.mjs. Node built-ins only (it runs before node_modules exists).
// The host's file is changed only by appending one marked block at its end, after a backup, and
// never where the admin set `user =` or `group =` themselves.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export const BLOCK_START = '# >>> demotool setup: run QEMU as root (root without systemd: avoids a 56 s QEMU re-probe per VM start) >>>';
export const BLOCK_END = '# <<< demotool setup <<<';
export const BACKUP_SUFFIX = '.demotool-backup';
const WANTED = { user: 'root', group: 'root' };

const blockRe = new RegExp(`\\n?${escapeRe(BLOCK_START)}\\n[\\s\\S]*?${escapeRe(BLOCK_END)}\\n?`, 'g');

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The file without demotool's block (and the blank line setup put before it). */
function withoutBlock(text) {
  return text.replace(blockRe, '');
}

/** Active `key = "value"` lines (not comments). */
function activeSettings(text, key) {
  const re = new RegExp(`^\\s*${key}\\s*=\\s*(.*?)\\s*$`, 'gm');
  return [...text.matchAll(re)].map((m) => ({ line: m[0], value: m[1].replace(/^"(.*)"$/, '$1') }));
}

/** What libvirt reads: the last active setting of each key (undefined: its default). */
export function effective(text) {
  const last = (key) => activeSettings(text, key).at(-1)?.value;
  return { user: last('user'), group: last('group') };
}

/**
 * Older demotool setups turned the stock example comment into an active setting in the middle
 * of the comment block (`#       user = "qemu"   # A user named "qemu"` became `user = "root"`,
 * and the commented default group became `group = "root"`). Put the comments back. Only that
 * exact shape is recognised; anything else is the admin's and is left alone.
 */
function repairLegacyEdit(text) {
  const userRe = /^(# Some examples of valid values are:\n#\n)user = "root"\n(#\s+user = "\+0"\s+# Super user \(uid=0\)\n)/m;
  const groupRe = /^(# specified in a similar way to user\.\n)group = "root"\n/m;
  const defaultUser = text.match(/^#user = "([^"]*)"$/m)?.[1];
  if (!userRe.test(text) || !groupRe.test(text) || !defaultUser) return { text, repaired: false };
  const repaired = text.replace(userRe, '$1#       user = "qemu"   # A user named "qemu"\n$2').replace(groupRe, `$1#group = "${defaultUser}"\n`);
  return { text: repaired, repaired: true };
}

/**
 * What setup should do to qemu.conf when QEMU must run as root:
 *  - 'ok':       nothing to change (demotool's block is there, or the admin set root/root);
 *  - 'admin':    the admin set user or group themselves: never overridden; `advice` says what to do;
 *  - 'write':    `text` is the new file (legacy edit repaired, one marked block at the end).
 */
export function planQemuConf(original) {
  const legacy = repairLegacyEdit(original);
  const base = withoutBlock(legacy.text);
  const own = { user: activeSettings(base, 'user'), group: activeSettings(base, 'group') };
  const notes = legacy.repaired ? ['put back the stock comment lines an earlier demotool setup had turned into user/group settings'] : [];
  if (own.user.length || own.group.length) {
    const mine = effective(base);
    const text = base === original ? original : base;
    if (mine.user === WANTED.user && mine.group === WANTED.group)
      return text === original
        ? { action: 'ok', reason: 'qemu.conf already runs QEMU as root (your own setting)' }
        : { action: 'write', text, notes: [...notes, "your own user/group settings stay; removed demotool's block"] };
    const lines = [...own.user, ...own.group].map((s) => s.line).join(', ');
    return {
      action: 'admin',
      text: text === original ? undefined : text,
      reason: `qemu.conf has your own setting (${lines}); demotool leaves it alone`,
      advice:
        'as root without systemd, libvirt re-probes QEMU at every VM start (about a minute) unless QEMU runs as root: ' +
        'if that is fine with you, set user = "root" and group = "root" in /etc/libvirt/qemu.conf and restart libvirtd; else VMs start slowly',
    };
  }
  const block = `${BLOCK_START}\nuser = "${WANTED.user}"\ngroup = "${WANTED.group}"\n${BLOCK_END}\n`;
  const text = `${base.endsWith('\n') || base === '' ? base : `${base}\n`}\n${block}`;
  if (text === original) return { action: 'ok', reason: "qemu.conf already has demotool's block (QEMU runs as root)" };
  return { action: 'write', text, notes };
}

/**
 * Applies planQemuConf to the file at `path`: a backup first (`path.demotool-backup`, kept from
 * the first change on), then the new text. Returns what happened, for the terminal.
 * `dryRun`: say what would change, change nothing.
 */
export function applyQemuConf(path, { dryRun = false } = {}) {
  const original = readFileSync(path, 'utf8');
  const plan = planQemuConf(original);
  const backup = `${path}${BACKUP_SUFFIX}`;
  const result = { ...plan, path, backup: undefined, changed: false, before: effective(original), after: effective(original) };
  const { text } = plan;
  if (text === undefined || text === original) return result;
  if (dryRun) return { ...result, wouldChange: true, after: effective(text) };
  if (!existsSync(backup)) copyFileSync(path, backup);
  writeFileSync(path, text);
  return { ...result, backup, changed: true, after: effective(text) };
}
