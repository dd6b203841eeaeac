/** Two runs at once on one host (two processes, the same demo name): each keeps its own VM and video. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { test, expect } from '@playwright/test';
import { probeVideo } from '../../src/record/index.js';
import { domains } from './support/host.js';

test('two processes with one demo name run side by side and both pass with their own videos', async ({}, testInfo) => {
  test.setTimeout(5 * 60_000);
  const child = join(import.meta.dirname, 'children', 'one-run.ts');
  const outs = [testInfo.outputPath('run-a'), testInfo.outputPath('run-b')];
  const runs = await Promise.all(outs.map((out) => execa('npx', ['tsx', child, out], { reject: false, all: true, env: { DEMOTOOL_LOG_LEVEL: 'warn' } })));
  for (const run of runs) expect(run.exitCode, run.all).toBe(0);
  const [a, b] = outs.map((out) => JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')));
  expect(a.vm).toMatch(/^demo-two-runs-[a-z0-9]{6}$/);
  expect(b.vm).toMatch(/^demo-two-runs-[a-z0-9]{6}$/);
  expect(a.vm).not.toBe(b.vm);
  for (const run of [a, b]) {
    const info = await probeVideo(run.video);
    expect(info.durationSec).toBeGreaterThan(1);
  }
  expect(a.video).not.toBe(b.video);
  expect((await domains()).filter((d) => d.startsWith('demo-two-runs-'))).toEqual([]);
});
