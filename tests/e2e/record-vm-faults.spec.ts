import { test, expect } from '@playwright/test';
import { DiskSpaceError, probeVideo } from '../../src/record/index.js';
import { sharedVm } from './support/vm.js';
import { decodeErrors, ffmpegChildren, sleep } from './record-helpers.js';
import { virsh } from './support/host.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
const { vm } = sharedVm('tiny', 'record-faults');

test('the disk-space check fails with DiskSpaceError when the threshold is above the free space', async () => {
  const error = await vm()
    .record('no-room', async () => undefined, { minFreeBytes: 2 ** 60 })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DiskSpaceError);
  expect((error as Error).message).toMatch(/minFreeBytes/);
  expect(await ffmpegChildren()).toEqual([]);
});

test('ffmpeg killed mid-section: one segment restart, and the final file is valid', async () => {
  const result = await vm().record('ffmpeg-killed', async () => {
    await vm().keyboard.type('echo before the kill\n', { delay: 10 });
    await sleep(1500);
    const [pid] = await ffmpegChildren();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await sleep(1500);
    await vm().keyboard.type('echo after the kill\n', { delay: 10 });
    await sleep(1500);
  });
  expect(result.segments).toBe(2);
  const probe = await probeVideo(result.path);
  expect(Math.abs(probe.durationSec - result.wallSec) / result.wallSec).toBeLessThan(0.05);
  expect(await decodeErrors(result.path)).toBe('');
  expect(await ffmpegChildren()).toEqual([]);
});

test('a body that throws still leaves a valid, playable file, and the error is rethrown', async ({}, testInfo) => {
  const error = await vm()
    .record('body-throws', async () => {
      await vm().keyboard.type('echo about to fail\n', { delay: 10 });
      await sleep(1000);
      throw new Error('the demo broke half-way');
    })
    .catch((e: Error) => e);
  expect((error as Error).message).toBe('the demo broke half-way');
  const path = `${vm().demo.directory}/body-throws.mp4`;
  const probe = await probeVideo(path);
  expect(probe.durationSec).toBeGreaterThan(1);
  expect(await decodeErrors(path)).toBe('');
  void testInfo;
});

test('a snapshot revert during a section: the recording continues across the reconnect and ends valid', async () => {
  await vm().snapshot('rec');
  const idBefore = await virsh('domid', vm().name);
  const result = await vm().record('across-revert', async () => {
    await vm().keyboard.type('echo before revert\n', { delay: 10 });
    await vm().revert('rec');
    await vm().keyboard.type('echo after revert\n', { delay: 10 });
    await sleep(1000);
  });
  expect(await virsh('domid', vm().name)).not.toBe(idBefore);
  const probe = await probeVideo(result.path);
  expect(probe.fps).toBe(30);
  expect(Math.abs(probe.durationSec - result.wallSec) / result.wallSec).toBeLessThan(0.02);
  expect(await decodeErrors(result.path)).toBe('');
});
