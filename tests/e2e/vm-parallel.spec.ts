import { test, expect } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNested } from './support/nested.js';
import { domains } from './support/host.js';

test('two VMs at once under two Playwright workers: no name or VNC socket collision', async ({}, testInfo) => {
  test.setTimeout(10 * 60_000);
  const out = testInfo.outputPath('parallel');
  mkdirSync(out, { recursive: true });
  const run = await runNested(join(import.meta.dirname, 'nested', 'parallel'), [], { PARALLEL_OUT: out });
  expect(run.exitCode, run.all).toBe(0);
  const a = JSON.parse(readFileSync(join(out, 'a.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(out, 'b.json'), 'utf8'));
  const aDone = JSON.parse(readFileSync(join(out, 'a.done.json'), 'utf8'));
  const bDone = JSON.parse(readFileSync(join(out, 'b.done.json'), 'utf8'));
  expect(a.name).toMatch(/^demo-parallel-[a-z0-9]{6}$/);
  expect(b.name).toMatch(/^demo-parallel-[a-z0-9]{6}$/);
  expect(a.name).not.toBe(b.name);
  expect(a.vnc.socket).toBeTruthy();
  expect(a.vnc.socket).not.toBe(b.vnc.socket);
  // Each saw the other's VM while its own was running: they really ran at the same time.
  expect(aDone.sawPartner && bDone.sawPartner).toBe(true);
  expect(Math.max(a.started, b.started)).toBeLessThanOrEqual(Math.min(aDone.ended, bDone.ended));
  expect((await domains()).filter((d) => d.startsWith('demo-parallel'))).toEqual([]);
});
