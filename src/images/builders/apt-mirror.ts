import fs from 'node:fs/promises';
import path from 'node:path';

/** The Debian archive URIs a build downloads from. */
export interface DebianMirrors {
  /** Serves `bookworm` and `bookworm-updates`. */
  main: string;
  /** Serves `bookworm-security`. */
  security: string;
}

const DEFAULT_MIRRORS: DebianMirrors = {
  main: 'http://deb.debian.org/debian',
  security: 'http://deb.debian.org/debian-security',
};

interface SourceEntry {
  uri: string;
  suites: string[];
}

/** Entries of a deb822 `.sources` file (only `Types: deb`, not disabled). */
export function parseDeb822(text: string): SourceEntry[] {
  const out: SourceEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => stanza.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi'))?.[1]?.trim() ?? '';
    if (!field('Types').split(/\s+/).includes('deb')) continue;
    if (/^(no|false)$/i.test(field('Enabled'))) continue;
    const suites = field('Suites').split(/\s+/).filter(Boolean);
    for (const uri of field('URIs').split(/\s+/).filter(Boolean)) out.push({ uri, suites });
  }
  return out;
}

/** Entries of a one-line-style `sources.list`. */
export function parseOneLine(text: string): SourceEntry[] {
  const out: SourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*/, '')
      .replace(/\[[^\]]*\]/, '')
      .trim();
    const [type, uri, suite] = line.split(/\s+/);
    if (type === 'deb' && uri && suite) out.push({ uri, suites: [suite] });
  }
  return out;
}

/** Pick the bookworm and bookworm-security URIs; anything missing falls back to deb.debian.org. */
export function pickMirrors(entries: SourceEntry[], release = 'bookworm'): DebianMirrors {
  const strip = (u: string) => u.replace(/\/+$/, '');
  const main = entries.find((e) => e.suites.includes(release))?.uri;
  const security = entries.find((e) => e.suites.includes(`${release}-security`) || e.suites.includes(`${release}/updates`))?.uri;
  return { main: strip(main ?? DEFAULT_MIRRORS.main), security: strip(security ?? DEFAULT_MIRRORS.security) };
}

/**
 * The host's configured Debian mirrors (the only archive some machines can reach).
 * DEMOTOOL_DEBIAN_MIRROR overrides the main one.
 */
export async function hostMirrors(aptDir = '/etc/apt', env: NodeJS.ProcessEnv = process.env): Promise<DebianMirrors> {
  const entries: SourceEntry[] = [];
  const read = (f: string) => fs.readFile(f, 'utf8').catch(() => '');
  entries.push(...parseOneLine(await read(path.join(aptDir, 'sources.list'))));
  const dir = path.join(aptDir, 'sources.list.d');
  const files = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  for (const f of files) {
    if (f.endsWith('.sources')) entries.push(...parseDeb822(await read(path.join(dir, f))));
    else if (f.endsWith('.list')) entries.push(...parseOneLine(await read(path.join(dir, f))));
  }
  const mirrors = pickMirrors(entries);
  if (env.DEMOTOOL_DEBIAN_MIRROR) mirrors.main = env.DEMOTOOL_DEBIAN_MIRROR.replace(/\/+$/, '');
  return mirrors;
}

/** One-line sources for bookworm, bookworm-updates and bookworm-security. */
export function bookwormSources(m: DebianMirrors): string[] {
  return [`deb ${m.main} bookworm main`, `deb ${m.main} bookworm-updates main`, `deb ${m.security} bookworm-security main`];
}
