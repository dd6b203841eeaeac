import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { scratchDir } from '../support/scratch-dir.js';

const main = path.resolve('src/cli/main.ts');
/** What `npx tsx` runs, named by path since the CLI runs in a scratch directory outside the package. */
const tsx = path.resolve('node_modules/.bin/tsx');
/** The CLI as a user runs it, through tsx, in `cwd`, with no DEMOTOOL_EXHIBIT_* from the caller. */
const cli = (cwd: string, args: string[], env: Record<string, string> = {}) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DEMOTOOL_EXHIBIT_')));
  return execa(tsx, [main, ...args], { cwd, reject: false, env: { ...clean, ...env }, extendEnv: false });
};

test.describe.configure({ timeout: 120_000 });

test('exhibit init writes the example (never over a file without --force), and check accepts it', async () => {
  const dir = scratchDir('cli-exhibit');
  const init = await cli(dir, ['exhibit', 'init']);
  expect(init.exitCode).toBe(0);
  const written = readFileSync(path.join(dir, 'exhibit.yaml'), 'utf8');
  expect(written).toBe(readFileSync('examples/exhibit/exhibit.yaml', 'utf8'));

  writeFileSync(path.join(dir, 'exhibit.yaml'), '# mine\nvm: { domain: mine }\n');
  const again = await cli(dir, ['exhibit', 'init']);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain('exists; not overwritten (use --force');
  expect(readFileSync(path.join(dir, 'exhibit.yaml'), 'utf8')).toBe('# mine\nvm: { domain: mine }\n');
  expect((await cli(dir, ['exhibit', 'init', '--force'])).exitCode).toBe(0);
  expect(readFileSync(path.join(dir, 'exhibit.yaml'), 'utf8')).toBe(written);
  expect((await cli(dir, ['exhibit', 'init', 'other.yaml'])).exitCode).toBe(0);
  expect(readFileSync(path.join(dir, 'other.yaml'), 'utf8')).toBe(written);

  // As written, it names a domain this host doesn't have (libvirtd runs here): check says so.
  const check = await cli(dir, ['exhibit', 'check', '--config', 'exhibit.yaml']);
  expect(check.exitCode).toBe(1);
  expect(check.stderr).toMatch(/exhibit\.yaml: vm\.domain "artwork": no such domain at \S+\n {2}→ `virsh list --all` lists the domains defined there/);
  expect(check.stdout).toBe('');

  // Edited to define its VM from an image, it passes, printed resolved.
  writeFileSync(path.join(dir, 'exhibit.yaml'), written.replace('  domain: artwork\n', '  image: tiny\n'));
  const edited = await cli(dir, ['exhibit', 'check', '--config', 'exhibit.yaml']);
  expect(edited.exitCode, edited.stderr).toBe(0);
  const printed = JSON.parse(edited.stdout) as { vm: unknown; watchdog: { heartbeatTimeout: number } };
  expect(printed.vm).toEqual({ image: 'tiny' });
  expect(printed.watchdog.heartbeatTimeout).toBe(15_000);
});

test('exhibit check: the token redacted, env overrides applied, errors on stderr with exit code 1', async () => {
  const dir = scratchDir('cli-exhibit');
  writeFileSync(path.join(dir, 'good.yaml'), 'vm: { image: tiny }\napi: { host: 0.0.0.0, port: 8080 }\n');
  const good = await cli(dir, ['exhibit', 'check', '--config', 'good.yaml'], {
    DEMOTOOL_EXHIBIT_API_TOKEN: 'secret-token-0123456789',
    DEMOTOOL_EXHIBIT_API_PORT: '9000',
  });
  expect(good.exitCode).toBe(0);
  expect(good.stdout).not.toContain('secret-token');
  expect((JSON.parse(good.stdout) as { watchdog: { api: unknown } }).watchdog.api).toEqual({ host: '0.0.0.0', port: 9000, token: '<redacted>' });

  // Without the token, the same file may not listen beyond loopback.
  const open = await cli(dir, ['exhibit', 'check', '--config', 'good.yaml']);
  expect(open.exitCode).toBe(1);
  expect(open.stderr).toContain('good.yaml:2:8: api.host:');

  writeFileSync(path.join(dir, 'bad.yaml'), 'vm: { domain: art }\nwatchdog:\n  grace: 5 seconds\n');
  const bad = await cli(dir, ['exhibit', 'check', '--config', 'bad.yaml']);
  expect(bad.exitCode).toBe(1);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toContain('invalid exhibit config bad.yaml (1 problem)');
  expect(bad.stderr).toContain('bad.yaml:3:3: watchdog.grace: "5 seconds" is not a duration');

  const missing = await cli(dir, ['exhibit', 'check', '--config', 'nope.yaml']);
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr).toContain('nope.yaml: cannot read it');
  expect((await cli(dir, ['exhibit', 'check'])).exitCode).toBe(1);
});
