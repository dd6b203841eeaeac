import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { formatMiB } from '../../src/cli/image-size.js';
import { packageRoot, packageVersion } from '../../src/cli/package-root.js';

const cli = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false });
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

test('demotool --version prints the package version', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await cli(flag);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  }
  expect(packageVersion()).toBe(version);
  expect(packageRoot()).toBe(process.cwd());
});

test('demotool setup --help names its flags', async () => {
  const r = await cli('setup', '--help');
  expect(r.exitCode).toBe(0);
  for (const flag of ['--yes', '--desktop', '--no-images']) expect(r.stdout).toContain(flag);
});

test('image sizes: one decimal, as images list and doctor both print them', () => {
  expect(formatMiB(0.2 * 2 ** 20)).toBe('0.2 MiB');
  expect(formatMiB(830.6 * 2 ** 20)).toBe('830.6 MiB');
  expect(formatMiB(0)).toBe('0.0 MiB');
});
