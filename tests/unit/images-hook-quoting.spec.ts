import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mmdebstrapArgs, shellQuote } from '../../src/images/builders/desktop.js';

const mirrors = { main: 'http://127.0.0.1/debian', security: 'http://127.0.0.1/debian-security' };

test('shellQuote gives one word for sh, whatever it holds', async () => {
  for (const s of ["it's", "'", "a'b'c", '$(touch x)', '"; rm -rf /; "', 'back\\slash', 'new\nline', '']) {
    const { stdout } = await execa('sh', ['-c', `printf %s ${shellQuote(s)}`]);
    expect(stdout).toBe(s);
  }
});

test("a ' in the cache path cannot inject shell into mmdebstrap's hooks (run by sh -c as root)", async () => {
  // The directory name closes the quote, runs a command, and opens a new quote.
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'hooks-'));
  const cache = path.join(base, "cache'; touch INJECTED; echo '");
  await fs.mkdir(cache);
  const essential = path.join(cache, 'essential.sh');
  const configure = path.join(cache, 'configure.sh');
  await fs.writeFile(essential, 'echo "essential $1" >> "$1/ran"\n');
  await fs.writeFile(configure, 'echo "configure $1" >> "$1/ran"\n');
  const root = path.join(base, 'root dir');
  await fs.mkdir(root);
  try {
    const args = mmdebstrapArgs({ asRoot: true, essential, configure }, mirrors, root);
    const hooks = args.filter((a) => /^--(essential|customize)-hook=/.test(a)).map((a) => a.slice(a.indexOf('=') + 1));
    expect(hooks).toHaveLength(2);
    // As mmdebstrap runs a hook: sh -c HOOK exec ROOT, in some working directory.
    for (const hook of hooks) await execa('sh', ['-c', hook, 'exec', root], { cwd: base });
    expect(await fs.readFile(path.join(root, 'ran'), 'utf8')).toBe(`essential ${root}\nconfigure ${root}\n`);
    await expect(fs.access(path.join(base, 'INJECTED'))).rejects.toThrow();
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
});
