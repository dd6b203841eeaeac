/**
 * What a recipe adds to debian-12-desktop: its packages join the desktop's own in the one
 * mmdebstrap run (from the host's apt sources), and a last customize hook writes its files and
 * a oneshot unit that runs its first-boot commands.
 */
import path from 'node:path';
import type { ResolvedRecipe } from './recipe.js';

const FIRST_BOOT = '/etc/demotool/first-boot.sh';
const DONE = '/var/lib/demotool/first-boot.done';

// Before the autologin getty, so the desktop (and the ready marker) comes up after the commands.
// Once per disk: a VM that reboots keeps its disk and doesn't run them again.
const FIRST_BOOT_UNIT = `[Unit]
Description=demotool recipe: first-boot commands
ConditionPathExists=!${DONE}
After=local-fs.target systemd-networkd.service
Before=getty@tty1.service

[Service]
Type=oneshot
# A redirect, not StandardOutput=tty: systemd would make ttyS0 root's, and the desktop session could no longer send its ready marker.
ExecStart=/bin/sh -c '/bin/sh -e ${FIRST_BOOT} </dev/null >/dev/ttyS0 2>&1'
ExecStartPost=/bin/sh -c 'mkdir -p ${path.posix.dirname(DONE)} && touch ${DONE}'

[Install]
WantedBy=multi-user.target
`;

/** One word for sh: 'it'\''s'. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell run with the root directory as $1 after the desktop's own configuration (an mmdebstrap customize hook). */
export function desktopRecipeScript(recipe: ResolvedRecipe, user: string): string {
  const lines = ['set -eu', 'R="$1"', `echo "demotool: recipe ${recipe.name}"`];
  const write = (file: string, data: Buffer, mode: number) => {
    lines.push(`mkdir -p "$R"${q(path.posix.dirname(file))}`);
    lines.push(`base64 -d > "$R"${q(file)} <<'DEMOTOOL_EOF'\n${data.toString('base64').replace(/.{76}/g, '$&\n')}\nDEMOTOOL_EOF`);
    lines.push(`chmod ${mode.toString(8).padStart(4, '0')} "$R"${q(file)}`);
  };
  for (const f of recipe.files) write(f.guestPath, f.data, f.mode);
  // Files under the demo user's home are theirs, with the directories made for them.
  lines.push(`chroot "$R" chown -R ${user}:${user} /home/${user}`);
  if (recipe.firstBoot.length) {
    write(FIRST_BOOT, Buffer.from(`${recipe.firstBoot.join('\n')}\n`), 0o755);
    write('/etc/systemd/system/demotool-first-boot.service', Buffer.from(FIRST_BOOT_UNIT), 0o644);
    lines.push('chroot "$R" systemctl enable demotool-first-boot.service');
  }
  lines.push('echo "demotool: recipe applied"');
  return `${lines.join('\n')}\n`;
}
