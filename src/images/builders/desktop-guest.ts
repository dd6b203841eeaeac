import { guestFile } from '../guest-files.js';

/**
 * What goes inside the debian-12-desktop guest: packages, the demo user, autologin into X,
 * and the session script that tells the host (over the serial port) when the desktop is up.
 */
export const DESKTOP_READY_MARKER = 'DEMOTOOL-DESKTOP-READY';
export const DESKTOP_USER = { name: 'demo', password: 'demokudasaidomo' };
const DESKTOP_HOSTNAME = 'demo-desktop';
export const DESKTOP_CMDLINE = 'root=/dev/vda rw console=tty0 console=ttyS0,115200 quiet';
const DESKTOP_SCREEN = { width: 1280, height: 800 };
const DESKTOP_BACKGROUND = '#3b6ea5';

export const DESKTOP_PACKAGES = [
  // boot
  'linux-image-amd64',
  'initramfs-tools',
  'zstd',
  'kmod',
  'e2fsprogs',
  'systemd-sysv',
  'udev',
  'dbus',
  'libpam-systemd',
  'procps',
  // the demo user's tools
  'sudo',
  'qemu-guest-agent',
  'iproute2',
  'curl',
  // the network services' tests: a resolver that takes DHCP's DNS server, wget, the CA store, a light browser
  'systemd-resolved',
  'wget',
  'ca-certificates',
  'dillo',
  // X, a window manager and a terminal
  'xserver-xorg-core',
  'xserver-xorg-input-libinput',
  'xinit',
  'x11-xserver-utils',
  'x11-utils',
  'xdotool',
  'openbox',
  'xterm',
  'xfonts-base',
  'fonts-dejavu-core',
];

/** dpkg path filters: no docs, man pages or translations in the image (copyright files stay). */
export const DPKG_TRIM = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/doc-base/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/bug/*',
  // Kernel modules for hardware a QEMU VM never has (wifi, NICs other than virtio, GPUs other
  // than bochs, cameras/TV, sound, InfiniBand, sensors): ~200 MB.
  ...[
    'drivers/net/wireless',
    'drivers/net/ethernet',
    'drivers/gpu/drm/amd',
    'drivers/gpu/drm/i915',
    'drivers/gpu/drm/nouveau',
    'drivers/gpu/drm/radeon',
    'drivers/media',
    'drivers/infiniband',
    'drivers/iio',
    'drivers/staging',
    'drivers/bluetooth',
    'sound',
    'net/wireless',
    'net/mac80211',
    'net/bluetooth',
  ].map((dir) => `path-exclude=/lib/modules/*/kernel/${dir}/*`),
];

/** Units that would reach the network or wake up at random moments during a recording. */
const MASKED_UNITS = [
  'systemd-timesyncd.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'man-db.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
  // ttyS0 carries the kernel log and the ready marker; a getty there would take the port from the demo user.
  'serial-getty@ttyS0.service',
  // Boot-time work a throw-away demo VM doesn't need (each costs seconds under TCG).
  'e2scrub_reap.service',
  'modprobe@dm_mod.service',
  'modprobe@loop.service',
  'modprobe@fuse.service',
  'modprobe@efi_pstore.service',
];

/** Modules udev would load for QEMU's emulated hardware that a demo never uses (floppy probing alone takes seconds). */
const BLACKLISTED_MODULES = ['floppy', 'pcspkr', 'kvm', 'kvm_amd', 'kvm_intel', 'cfg80211', 'joydev', 'ccp', 'ata_piix', 'pata_acpi'];

/** Modules the initramfs carries: just enough to mount an ext4 root on virtio-blk (a small initrd unpacks faster). */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'ext4', 'crc32c_generic'];

// cvt 1280 800 60, for a VGA whose mode list lacks 1280x800.
const MODELINE_1280X800 = '83.50 1280 1352 1480 1680 800 803 809 831 -hsync +vsync';

/** ~demo/.xinitrc: fixed screen size, no blanking, a coloured root, xterm + openbox, then the marker. */
export function xinitrc(): string {
  const { width: w, height: h } = DESKTOP_SCREEN;
  return `#!/bin/sh
# demotool desktop session. The host waits for the marker on the serial port.
out=$(xrandr | awk '/ connected/ {print $1; exit}')
if [ -n "$out" ]; then
  if xrandr | grep -q '^ *${w}x${h} '; then
    xrandr --output "$out" --mode ${w}x${h}
  else
    line=$(cvt ${w} ${h} 60 2>/dev/null | sed -n 's/^Modeline "[^"]*" *//p')
    xrandr --newmode ${w}x${h}_60 \${line:-${MODELINE_1280X800}}
    xrandr --addmode "$out" ${w}x${h}_60
    xrandr --output "$out" --mode ${w}x${h}_60
  fi
fi
xset s off -dpms s noblank
xsetroot -solid '${DESKTOP_BACKGROUND}'
# The X server shares one slow vCPU with its clients (TCG), and beside other VMs it fell behind
# reading the keyboard: the kernel holds 32 key events for it and drops the rest (SYN_DROPPED in
# Xorg's log). It goes first: nice -10 for its threads, real time for the one that reads input.
# ${X_PRIORITY_LIMITS_FILE} lets the user do both.
x=$(pgrep -x -u "$(id -u)" Xorg | head -n 1)
for t in /proc/$x/task/*; do renice -n -10 -p "\${t##*/}" >/dev/null 2>&1 || true; done
for t in $(ps -L -o tid=,comm= -p "$x" | awk '$2 == "InputThread" {print $1}'); do chrt -f -p 50 "$t" 2>/dev/null || true; done
openbox &
wm=$!
# Ready = openbox manages the screen (EWMH check window) and has mapped the xterm inside its
# frame (a managed window is only viewable once framed). One waiting xdotool process is cheap;
# a loop of short-lived X clients steals the CPU a TCG guest needs to start openbox.
i=0
until xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; do
  i=$((i + 1)); [ $i -ge 600 ] && break
  sleep 0.5
done
xterm -geometry 80x24+100+100 &
if timeout 600 xdotool search --sync --onlyvisible --class xterm >/dev/null 2>&1; then
  sleep 1 # let the xterm and its frame paint
  echo ${DESKTOP_READY_MARKER} > /dev/ttyS0
else
  echo "DEMOTOOL-DESKTOP-ERROR: the xterm window never appeared" > /dev/ttyS0
fi
wait $wm
`;
}

/** Lets the desktop user raise its X server's priority (see xinitrc). */
const X_PRIORITY_LIMITS_FILE = '/etc/security/limits.d/demotool-x.conf';
const X_PRIORITY_LIMITS = `${DESKTOP_USER.name} - nice -10
${DESKTOP_USER.name} - rtprio 50
`;

// Modesetting without glamor: there is no GPU, and software GL under TCG only slows X down.
const XORG_CONF = `Section "Device"
  Identifier "qemu-vga"
  Driver "modesetting"
  Option "AccelMethod" "none"
EndSection
`;

const NETWORK = `[Match]
Name=en*

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
`;

/**
 * systemd-resolved only writes DHCP's DNS server into /run/systemd/resolve/resolv.conf, which
 * /etc/resolv.conf points to: glibc asks that server itself (no stub, no cache), and nothing
 * else (no compiled-in fallback servers, no LLMNR or mDNS on the link).
 */
const RESOLVED = `[Resolve]
FallbackDNS=
LLMNR=no
MulticastDNS=no
DNSStubListener=no
`;

const AUTOLOGIN = `[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin ${DESKTOP_USER.name} --noclear %I $TERM
`;

/**
 * Shell run with the root directory as $1 after the essential packages are in and before the
 * kernel is (an mmdebstrap essential hook), so the one initramfs built is already the small one.
 */
export function essentialScript(): string {
  const hook = `#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules ${INITRAMFS_MODULES.join(' ')}
`;
  return `set -eu
R="$1"
mkdir -p "$R/etc/initramfs-tools/conf.d" "$R/etc/initramfs-tools/hooks" "$R/etc/modprobe.d"
echo MODULES=list > "$R/etc/initramfs-tools/conf.d/demotool.conf"
cat > "$R/etc/initramfs-tools/hooks/demotool" <<'DEMOTOOL_EOF'
${hook}DEMOTOOL_EOF
chmod 0755 "$R/etc/initramfs-tools/hooks/demotool"
printf 'blacklist %s\n' ${BLACKLISTED_MODULES.join(' ')} > "$R/etc/modprobe.d/demotool-blacklist.conf"
`;
}

/** Shell run with the root directory as $1 (an mmdebstrap customize hook, or after debootstrap). */
export function configureScript(): string {
  const u = DESKTOP_USER;
  const heredoc = (file: string, body: string, mode = '0644') => `cat > "$R${file}" <<'DEMOTOOL_EOF'\n${body}DEMOTOOL_EOF\nchmod ${mode} "$R${file}"\n`;
  return `set -eu
R="$1"
in_root() { chroot "$R" "$@"; }
echo "demotool: configuring $R"

echo ${DESKTOP_HOSTNAME} > "$R/etc/hostname"
printf '127.0.0.1 localhost\\n127.0.1.1 ${DESKTOP_HOSTNAME}\\n::1 localhost ip6-localhost ip6-loopback\\n' > "$R/etc/hosts"
echo '/dev/vda / ext4 defaults 0 1' > "$R/etc/fstab"
# DHCP's DNS server: the gateway on the closed network (demotool answers), 10.0.2.3 on the open one
rm -f "$R/etc/resolv.conf"; ln -s /run/systemd/resolve/resolv.conf "$R/etc/resolv.conf"
mkdir -p "$R/etc/systemd/resolved.conf.d"
${heredoc('/etc/systemd/resolved.conf.d/demotool.conf', RESOLVED)}
in_root systemctl enable systemd-resolved.service
# systemd creates a machine id on first boot, so every VM gets its own
: > "$R/etc/machine-id"
[ -L "$R/var/lib/dbus/machine-id" ] || rm -f "$R/var/lib/dbus/machine-id"

in_root groupadd -f wheel
in_root id -u ${u.name} >/dev/null 2>&1 || in_root useradd -m -s /bin/bash -G sudo,wheel,dialout,video,input ${u.name}
printf '%s:%s\\n%s:%s\\n' ${u.name} '${u.password}' root '${u.password}' | in_root chpasswd
${heredoc('/etc/sudoers.d/wheel', '%wheel ALL=(ALL:ALL) ALL\n', '0440')}
mkdir -p "$R/etc/systemd/system/getty@tty1.service.d"
${heredoc('/etc/systemd/system/getty@tty1.service.d/autologin.conf', AUTOLOGIN)}
echo '[ "$(tty)" = /dev/tty1 ] && exec startx' >> "$R/home/${u.name}/.profile"
${heredoc(`/home/${u.name}/.xinitrc`, xinitrc(), '0755')}
mkdir -p "$R/etc/security/limits.d"
${heredoc(X_PRIORITY_LIMITS_FILE, X_PRIORITY_LIMITS)}
in_root chown -R ${u.name}:${u.name} /home/${u.name}

mkdir -p "$R/etc/systemd/network"
${heredoc('/etc/systemd/network/20-wired.network', NETWORK)}
in_root systemctl enable systemd-networkd.service
in_root systemctl disable systemd-networkd-wait-online.service || true
in_root systemctl mask ${MASKED_UNITS.join(' ')}
# Autologin must not wait for DHCP: a copy of systemd-user-sessions without After=network.target.
sed 's/ network.target//' "$R/lib/systemd/system/systemd-user-sessions.service" > "$R/etc/systemd/system/systemd-user-sessions.service"
# The watchdog's guest monitors: installed, off unless the kernel command line says demotool.watchdog=.
mkdir -p "$R/usr/local/bin" "$R/etc/demotool"
${heredoc('/usr/local/bin/demotool-guest', guestFile('demotool-guest'), '0755')}
${heredoc('/etc/systemd/system/demotool-guest.service', guestFile('demotool-guest.service'))}
in_root systemctl enable demotool-guest.service
mkdir -p "$R/etc/X11/xorg.conf.d"
${heredoc('/etc/X11/xorg.conf.d/20-demotool.conf', XORG_CONF)}

# qemu-guest-agent has no [Install]: udev starts it when the org.qemu.guest_agent.0 port appears.
ls "$R"/lib/udev/rules.d/*qemu-guest-agent* "$R"/usr/lib/udev/rules.d/*qemu-guest-agent* 2>/dev/null | grep -q . ||
  { echo "demotool: qemu-guest-agent udev rule missing" >&2; exit 1; }
echo "demotool: qemu-guest-agent is $(in_root systemctl is-enabled qemu-guest-agent.service || true)"

# The root disk is virtio: the initramfs must carry its drivers.
initrd=$(ls "$R"/boot/initrd.img-* | tail -n 1)
if ! in_root lsinitramfs "/boot/$(basename "$initrd")" | grep -q 'virtio_blk.ko'; then
  printf 'virtio_pci\\nvirtio_blk\\n' >> "$R/etc/initramfs-tools/modules"
  in_root update-initramfs -u
fi
in_root lsinitramfs "/boot/$(basename "$initrd")" | grep -E '/virtio_(blk|pci)\\.ko' | sed 's/^/demotool: initramfs has /'

# mkfs.ext4 -d drops sub-second timestamps, which would make every fontconfig cache look stale
# (each boot would rescan all fonts). Whole-second font dir times + fresh caches match after the copy.
# -L, inside the chroot: some font dirs are absolute symlinks (cmap/adobe-* → poppler-data).
mkdir -p "$R/usr/local/share/fonts"
in_root sh -c 'find -L /usr/share/fonts /usr/local/share/fonts -type d | while read -r d; do touch -d "@$(stat -L -c %Y "$d")" "$d"; done'
in_root fc-cache -s -f

rm -rf "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/var/cache/debconf/*-old "$R"/var/log/*.log "$R"/var/log/apt/*
echo "demotool: configured"
`;
}
