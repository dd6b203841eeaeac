import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { ImageCache } from '../../src/index.js';

const cli = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { reject: false, all: true });

test('demotool doctor reports libvirt, KVM/TCG, tools and cached images, one line each', async () => {
  const r = await cli('doctor');
  expect(r.exitCode, r.all).toBe(0);
  expect(r.stdout).toMatch(/^ok\s+libvirt\s+qemu:\/\/\/session answers/m);
  expect(r.stdout).toMatch(/^(ok|warn)\s+acceleration\s+(KVM|TCG): /m);
  for (const tool of ['qemu-system-x86_64', 'qemu-img', 'ffmpeg', 'virt-builder', 'mmdebstrap', 'tesseract'])
    expect(r.stdout).toMatch(new RegExp(`^ok\\s+${tool}\\s+\\S`, 'm'));
  expect(r.stdout).toMatch(/^ok\s+images\s+.*tiny/m);
  // What the cache takes, against du, and the space left where it is.
  const line = /^(ok|warn)\s+cache disk\s+images ([\d.]+) MiB, saved boots ([\d.]+) MiB \((\d+)\); ([\d.]+) MiB free/m.exec(r.stdout);
  expect(line, r.stdout).not.toBeNull();
  const cache = new ImageCache();
  const du = async (dir: string) => Number((await execa('du', ['-s', '-B1', dir])).stdout.split('\t')[0]) / 2 ** 20;
  expect(Number(line![2])).toBeCloseTo(await du(cache.dir), -1);
  expect(Number(line![4])).toBe((await cache.savedBoots()).length);
});

test('doctor names a libvirt that does not answer, with the fix', async () => {
  const r = await execa(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'doctor'], {
    reject: false,
    env: { DEMOTOOL_LIBVIRT_URI: 'qemu+unix:///system?socket=/nonexistent/libvirt-sock' },
  });
  expect(r.exitCode).toBe(1);
  expect(r.stdout).toMatch(/^FAIL libvirt .* does not answer\n\s+fix: run `npx demotool setup --yes`/m);
});

test('images list shows the cached tiny image; a bad image name is refused clearly', async () => {
  const list = await cli('images', 'list');
  // tiny.qcow2 from before versioned builds, or the current build tiny_{build id}.qcow2.
  expect(list.stdout).toMatch(/^tiny\s+[\d.]+ MiB\s+(\d{4}-\d\d-\d\d \d\d:\d\d|-)\s+\S+\s+built-in\s+\/.*tiny(_\d{8}-\d{6}-[0-9a-f]{4})?\.qcow2$/m);
  const bad = await cli('images', 'build', 'Not/Valid');
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr).toMatch(/demotool: .*Not\/Valid/);
});
