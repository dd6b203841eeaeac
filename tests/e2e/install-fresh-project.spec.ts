import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// A version from the peer range (>=1.53: the matchers use testInfo.snapshotPath's `kind`, new
// in 1.53) that is not the one this repository tests with (1.65.1): the fixtures must work on
// it, and npm must not install a second copy for demotool.
const PLAYWRIGHT_VERSION = '1.55.1';

/** The files README's "Use it in your project" shows: each code block under a "`path`:" caption. */
function readmeProjectFiles(): Map<string, string> {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('\n## Use it in your project\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const files = new Map<string, string>();
  for (const m of section.matchAll(/`([\w./-]+\.ts)`:\n\n```ts\n([\s\S]*?)```/g)) files.set(m[1]!, m[2]!);
  return files;
}

let tmp: string;

test.beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-install-'));
});

test.afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

test('npm pack → a fresh project with another Playwright → demotool setup → the README spec passes', async () => {
  // The build, an npm install, and one tiny boot under TCG.
  test.setTimeout(30 * 60_000);
  const repo = process.cwd();
  const project = path.join(tmp, 'project');
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  // Child processes of this worker: no CI (forbidOnly), no colour codes in the output we read.
  const env = { CI: '', FORCE_COLOR: '0', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

  const tarball = await test.step('npm run build, npm pack', async () => {
    const build = await execa('npm', ['run', 'build'], { cwd: repo, reject: false, all: true, env });
    expect(build.exitCode, build.all).toBe(0);
    const pack = await execa('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: repo, env });
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path);
    // The CLI, the fixtures, the host setup and the TypeScript sources the source maps name; not the repository's setup.
    for (const f of [
      'dist/src/cli/main.js',
      'dist/fixtures/index.js',
      'scripts/host-setup.mjs',
      'scripts/host-packages.mjs',
      'scripts/qemu-conf.mjs',
      'src/images/image-names.ts',
    ])
      expect(files).toContain(f);
    // Every file the README links to, so its links work in node_modules/demotool too.
    const readme = readFileSync('README.md', 'utf8');
    const linked = [...readme.matchAll(/\]\(((?:docs|examples)\/[^)#]*)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(3);
    for (const link of linked)
      expect(
        files.some((f) => f === link || f.startsWith(link)),
        `the README links ${link}`,
      ).toBe(true);
    expect(files).not.toContain('scripts/setup.mjs');
    expect(files.some((f) => f.startsWith('tests/'))).toBe(false);
    return path.join(tmp, packed!.filename);
  });

  await test.step(`install it with @playwright/test@${PLAYWRIGHT_VERSION} into a copy of examples/project`, async () => {
    await fs.cp(path.join(repo, 'examples/project'), project, { recursive: true });
    // The spec and config as the README shows them.
    for (const [name, text] of readmeProjectFiles()) await fs.writeFile(path.join(project, name), text);
    const install = await execa('npm', ['install', '--prefer-offline', '--save-dev', tarball, `@playwright/test@${PLAYWRIGHT_VERSION}`], {
      cwd: project,
      reject: false,
      all: true,
      env,
    });
    expect(install.exitCode, install.all).toBe(0);
    const installed = (p: string) => JSON.parse(readFileSync(path.join(project, 'node_modules', p, 'package.json'), 'utf8')) as { version: string };
    expect(installed('playwright').version).toBe(PLAYWRIGHT_VERSION);
    expect(installed('demotool').version).toBe(version);
    // One copy: demotool brings none of its own.
    await expect(fs.access(path.join(project, 'node_modules/demotool/node_modules/@playwright'))).rejects.toThrow();
    await expect(fs.access(path.join(project, 'node_modules/demotool/node_modules/playwright'))).rejects.toThrow();
    // Source maps carry the TypeScript sources: stack traces show readable code.
    const map = JSON.parse(readFileSync(path.join(project, 'node_modules/demotool/dist/src/images/image-names.js.map'), 'utf8')) as {
      sourcesContent?: string[];
    };
    expect(map.sourcesContent?.[0]).toContain('export function closestBuiltIn');
  });

  await test.step('npx demotool --version, then npx demotool setup --yes (images cached: validated, not rebuilt)', async () => {
    const v = await execa('npx', ['demotool', '--version'], { cwd: project, env });
    expect(v.stdout.trim()).toBe(version);
    const started = Date.now();
    const setup = await execa('npx', ['demotool', 'setup', '--yes'], { cwd: project, reject: false, all: true, env });
    expect(setup.exitCode, setup.all).toBe(0);
    expect(setup.stdout).toMatch(/^\[setup\] OS packages: all present$/m);
    expect(setup.stdout).toMatch(/^\[tiny\] ready: /m);
    // No build steps: only the ready line for tiny.
    expect(setup.stdout.split('\n').filter((l) => l.startsWith('[tiny]'))).toHaveLength(1);
    expect(setup.stdout).toMatch(/^\[setup\] ready in /m);
    // Nothing of the repository's own setup (npm ci, tsc) runs in a user's project.
    expect(setup.all).not.toMatch(/npm dependencies|building the package/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  await test.step('npx playwright test in the project: the README spec passes', async () => {
    const run = await execa('npx', ['playwright', 'test', '--reporter=list'], { cwd: project, reject: false, all: true, env, timeout: 20 * 60_000 });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toMatch(/1 passed/);
    expect(run.all).not.toMatch(/did not expect test\.use|Two copies of Playwright Test/);
  });
});
