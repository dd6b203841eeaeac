/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole process group (node, and any helper left in
 * it). One Ctrl-C ends a plain script at once, by the signal, with its recordings finished and
 * its VM removed; in a Playwright run it is no test's failure.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { test, expect } from '@playwright/test';
import type { Logger } from '../../src/log.js';
import { probeVideo, Recorder } from '../../src/record/index.js';
import { decodeErrors } from './record-helpers.js';
import { SyntheticSource } from './record-synthetic.js';
import { domains, runFiles } from './support/host.js';

test.describe.configure({ timeout: 6 * 60_000 });

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Resolves with the first stdout line of `proc` that matches `pattern`. */
function lineMatching(proc: ResultPromise, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split('\n').find((l) => pattern.test(l));
      if (line) resolve(line);
    });
    proc.then(
      (r) => reject(new Error(`exited before ${pattern}:\n${r.all}`)),
      (e: unknown) => reject(e as Error),
    );
  });
}

/** The terminal's Ctrl-C: SIGINT to every process of the child's group. */
const ctrlC = (proc: ResultPromise) => process.kill(-proc.pid!, 'SIGINT');

/** Hidden files demotool leaves beside a video while it records (`.{file}.{tag}.seg0.ts` and such). */
function hiddenFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)\.[^/]+\.(seg\d+|concat|tmp|palette)/.test(f));
}

test('one Ctrl-C ends a startDemo script at once, by SIGINT: the section is finished and playable, the VM removed', async ({}, info) => {
  const out = info.outputPath('v');
  // detached: a process group of its own, as a shell gives a command it runs.
  const proc = execa(process.execPath, ['--import', 'tsx', here('./children/long-demo.ts'), out], {
    reject: false,
    all: true,
    detached: true,
    timeout: 240_000,
  });
  const { vm } = JSON.parse(await lineMatching(proc, /"recording":true/));
  await new Promise((r) => setTimeout(r, 3_000));
  const sent = Date.now();
  ctrlC(proc);
  const r = await proc;
  const tookMs = Date.now() - sent;
  // As Node's default for SIGINT: the process ends by the signal (a shell says 130), and soon.
  expect(r.signal, r.all).toBe('SIGINT');
  expect(tookMs, r.all).toBeLessThan(30_000);
  // The script never went on after its pause.
  expect(r.stdout).not.toMatch(/"paused"|"recorded"|"joined"/);
  expect(r.all).toContain('signal received');
  expect(r.all).not.toMatch(/not finished|demotool bug|ffmpeg exited with an error|guest network helper exited|cleanup step failed/);
  const video = await probeVideo(join(out, 'long', 'sec.mp4'));
  expect(video.durationSec).toBeGreaterThan(2);
  expect(hiddenFiles(out)).toEqual([]);
  expect(await domains()).not.toContain(vm);
  expect(runFiles(vm)).toEqual([]);
});

test('Ctrl-C during a Playwright run: no missing-await error, the videos finished, no segments left, helpers stopped quietly', async ({}, info) => {
  const out = info.outputPath('nested');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const config = here('./nested/fixtures-ctrl-c/playwright.config.ts');
  const proc = execa('npx', ['playwright', 'test', '-c', config, `--output=${join(out, 'test-results')}`], {
    reject: false,
    all: true,
    detached: true,
    timeout: 300_000,
    env: { NESTED_OUT: out, CI: '' },
  });
  const note = join(out, 'recording.json');
  for (let i = 0; i < 2400 && !existsSync(note) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  expect(existsSync(note), 'the nested test never started recording').toBe(true);
  const { vm } = JSON.parse(readFileSync(note, 'utf8'));
  await new Promise((r) => setTimeout(r, 3_000));
  ctrlC(proc);
  const r = await proc;
  // npx goes by the signal itself; Playwright's runner exits with 130.
  expect([130, 'SIGINT'], r.all).toContain(r.exitCode ?? r.signal);
  expect(r.all).toContain('Test was interrupted');
  // The test was interrupted: its awaited actions are not a missing await, and nothing was torn down in the wrong order.
  expect(r.all).not.toMatch(/missing `await`|MissingAwait|cleanup step failed/);
  expect(r.all).not.toMatch(/not finished|demotool bug|ffmpeg exited with an error|guest network helper exited|could not be finished/);
  const report = readFileSync(join(out, 'report.json'), 'utf8');
  expect(report).not.toMatch(/missing `await`|EMISSINGAWAIT/);
  // Both videos finished and playable; no hidden segment files beside them.
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' });
  const section = files.find((f) => f.endsWith('/sec.mp4'));
  expect(section, files.join('\n')).toBeDefined();
  expect((await probeVideo(join(out, section!))).durationSec).toBeGreaterThan(2);
  const video = files.find((f) => f.endsWith('/video.mp4'));
  if (video) expect((await probeVideo(join(out, video))).durationSec).toBeGreaterThan(2);
  expect(hiddenFiles(out)).toEqual([]);
  expect(await domains()).not.toContain(vm);
  expect(runFiles(vm)).toEqual([]);
});

test('Ctrl-C to the group during a recording: ffmpeg is not hit, the video is finished by us, no warning, no segments', async ({}, info) => {
  const dir = info.outputPath('v');
  const proc = execa(process.execPath, ['--import', 'tsx', here('./record-child.ts'), 'sigint', dir], {
    reject: false,
    all: true,
    detached: true,
    timeout: 60_000,
  });
  const { pid } = JSON.parse(await lineMatching(proc, /"started":true/));
  await new Promise((r) => setTimeout(r, 2_000));
  ctrlC(proc);
  const r = await proc;
  expect(r.signal, r.all).toBe('SIGINT');
  // Only the one line that says what the signal does.
  expect(r.stderr.trim().split('\n'), r.all).toEqual([expect.stringContaining('signal received')]);
  expect(() => process.kill(pid, 0)).toThrow();
  const v = await probeVideo(join(dir, 'child.mp4'));
  expect(v.durationSec).toBeGreaterThan(1.8);
  expect(await decodeErrors(join(dir, 'child.mp4'))).toBe('');
  expect(hiddenFiles(dir)).toEqual([]);
});

test('ffmpeg stopped by a signal while it finishes: a cut-off video, not a demotool bug, and no segments kept', async ({}, info) => {
  const warnings: string[] = [];
  const log: Logger = { debug: () => {}, info: () => {}, warn: (e) => void warnings.push(e), error: (e) => void warnings.push(e), child: () => log };
  const src = new SyntheticSource(640, 400);
  const rec = new Recorder(src, { log, poster: false });
  const dir = info.outputPath('v');
  await rec.start(join(dir, 'cut.mp4'));
  let phase = 0;
  const timer = setInterval(() => src.setPhase(++phase % 8), 100);
  await new Promise((r) => setTimeout(r, 2_000));
  clearInterval(timer);
  // Someone else's signal (a kill of ffmpeg's group) as the stop begins.
  const stopping = rec.stop();
  process.kill(rec.ffmpegPid!, 'SIGINT');
  const result = await stopping;
  expect(result.durationSec).toBeGreaterThan(1);
  expect(warnings).toEqual([]);
  expect(hiddenFiles(dir)).toEqual([]);
});
