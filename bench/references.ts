// What the bench compares against must be there before the first measurement (a missing VLC
// used to end `npm run bench` after 11 minutes of boots).
import { execa } from 'execa';

interface Reference {
  /** The bench parts that spawn it. */
  parts: string[];
  what: string;
  /** Resolves true when it is usable. */
  present: () => Promise<boolean>;
  install: string;
}

const ok = async (cmd: string, args: string[]) => (await execa(cmd, args, { reject: false, timeout: 30_000 })).exitCode === 0;

/** cvlc and its arguments as a command line: VLC refuses to run as root, so root runs it as nobody. */
export function vlcCommand(args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'nobody', '--', 'cvlc', ...args]] : ['cvlc', args];
}

/** VLC's modules: the VNC input and the H.264 encoder are plugins, packaged apart on Debian. */
const vlcModules = async () => (await execa(...vlcCommand(['--list']), { reject: false, timeout: 30_000 })).stdout ?? '';

const REFERENCES: Reference[] = [
  {
    parts: ['record'],
    what: 'runuser (VLC refuses to run as root)',
    present: async () => process.getuid?.() !== 0 || ok('runuser', ['--version']),
    install: 'util-linux',
  },
  { parts: ['record'], what: 'VLC (cvlc)', present: () => ok(...vlcCommand(['--version'])), install: 'vlc' },
  {
    parts: ['record'],
    what: "VLC's VNC input (vnc module)",
    present: async () => /^\s+vnc\s/m.test(await vlcModules()),
    install: 'vlc-plugin-access-extra (Debian/Ubuntu)',
  },
  {
    parts: ['record'],
    what: "VLC's H.264 encoder (x264 module)",
    present: async () => /^\s+x264\s/m.test(await vlcModules()),
    install: 'vlc-plugin-base (Debian/Ubuntu)',
  },
  { parts: ['record'], what: 'pgrep', present: () => ok('pgrep', ['--version']), install: 'procps' },
  { parts: ['screenshot', 'exhibit-soak'], what: 'virsh', present: () => ok('virsh', ['--version']), install: 'libvirt-clients' },
];

/**
 * Checks every reference tool the wanted bench parts spawn, and stops with what to install when
 * one is missing.
 */
export async function prepareBench(want: (part: string) => boolean): Promise<void> {
  const missing: Reference[] = [];
  for (const r of REFERENCES) if (r.parts.some(want) && !(await r.present().catch(() => false))) missing.push(r);
  if (missing.length > 0) {
    console.error(
      [
        'The bench compares against tools that are missing:',
        ...missing.map((r) => `  - ${r.what}: install ${r.install}`),
        'Install them with `node scripts/setup.mjs --bench --yes` (what `npm run bench` runs), or leave those parts out:',
        '`npm run bench -- boot keys screenshot watchdog` (the parts you name run).',
      ].join('\n'),
    );
    process.exit(2);
  }
}
