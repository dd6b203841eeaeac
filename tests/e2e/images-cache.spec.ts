import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageBuildError, ImageCache, type BuildProgress } from '../../src/images/index.js';
import type { LogFields, Logger } from '../../src/log.js';
import { cacheEntries, hostHasKernel } from './support/host.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const imagesIndex = path.resolve(here, '../../src/images/index.ts');

interface Line {
  level: string;
  event: string;
  fields: LogFields;
}

/** A Logger that remembers what it was told (and stays quiet). */
function recordingLog(lines: Line[] = []): Logger & { lines: Line[] } {
  const at =
    (level: string) =>
    (event: string, fields: LogFields = {}) =>
      void lines.push({ level, event, fields });
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log, lines };
  return log;
}

/** The files of the build a BaseImage came from (disk, kernel, initrd), as names in the cache dir. */
function buildFiles(image: { path: string }): string[] {
  const base = path.basename(image.path, '.qcow2');
  expect(base).toMatch(/^[a-z0-9.-]+_\d{8}-\d{6}-[0-9a-f]{4}$/);
  return [`${base}.initrd`, `${base}.qcow2`, `${base}.vmlinuz`];
}

let dir: string;
test.beforeEach(async () => {
  // Never the shared cache: other workers boot images from it meanwhile.
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-images-'));
});
test.afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('ensure builds tiny once, then reuses it untouched', async () => {
  const log = recordingLog();
  const cache = new ImageCache({ dir, log });
  const steps: BuildProgress[] = [];
  const image = await cache.ensure('tiny', { onProgress: (p) => steps.push(p) });
  expect(image).toMatchObject({ name: 'tiny', readyMarker: 'DEMOTOOL-READY', guestAgent: false, minMemoryMiB: 256 });
  // One build's files: tiny_{build id}.qcow2, .vmlinuz, .initrd.
  const [initrd, qcow2, kernel] = buildFiles(image);
  expect(image.path).toBe(path.join(dir, qcow2!));
  expect(image.boot?.kernel).toBe(path.join(dir, kernel!));
  expect(image.boot?.initrd).toBe(path.join(dir, initrd!));
  expect(image.boot?.cmdline).toContain('console=ttyS0,115200');
  // Without a host kernel, the package is downloaded, unless the default cache has its unpack to copy (images-guest-kernel tests both).
  const names = steps.map((s) => s.step);
  if (hostHasKernel()) expect(names).not.toContain('kernel download');
  expect(names.filter((s) => s !== 'kernel download')).toEqual(['kernel', 'initramfs', 'disk', 'done']);
  expect((await fs.stat(image.boot!.initrd)).size).toBeLessThan(2 * 2 ** 20);
  const before = (await fs.stat(image.path)).mtimeMs;

  const again: BuildProgress[] = [];
  const second = await cache.ensure('tiny', { onProgress: (p) => again.push(p) });
  expect(second).toEqual(image);
  expect(again).toEqual([]);
  expect((await fs.stat(image.path)).mtimeMs).toBe(before);
  expect(log.lines.filter((l) => l.event === 'building image')).toHaveLength(1);
  // With onProgress (the CLI), no warning: the caller shows the progress itself.
  expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.event)).toEqual([]);
  expect(await cacheEntries(dir)).toEqual(['tiny.json', ...buildFiles(image)]);
});

test('a truncated tiny image is found invalid, deleted with a warning and rebuilt', async () => {
  const log = recordingLog();
  const cache = new ImageCache({ dir, log });
  const image = await cache.ensure('tiny');
  // Without onProgress (a test's first boot), the first build says so at the default level.
  expect(log.lines.find((l) => l.level === 'warn')).toMatchObject({ event: 'image not in the cache: building it now', fields: { image: 'tiny' } });
  const size = (await fs.stat(image.path)).size;
  await fs.truncate(image.path, Math.floor(size / 3));

  const v = await cache.validate('tiny');
  expect(v.ok).toBe(false);
  expect(!v.ok && v.reason).toContain(path.basename(image.path));

  const rebuilt = await cache.ensure('tiny');
  expect(await cache.validate('tiny')).toEqual({ ok: true });
  expect((await fs.stat(rebuilt.path)).size).toBe(size);
  const warn = log.lines.find((l) => l.level === 'warn' && l.event !== 'image not in the cache: building it now');
  expect(warn?.event).toMatch(/corrupt.*rebuild/);
  expect(warn?.fields.image).toBe('tiny');
  expect(log.lines.filter((l) => l.event === 'building image')).toHaveLength(2);
});

test('validate catches each missing or wrong part of a built-in image', async () => {
  const cache = new ImageCache({ dir, log: recordingLog() });
  const image = await cache.ensure('tiny');
  const reason = async () => {
    const v = await cache.validate('tiny');
    return v.ok ? 'ok' : v.reason;
  };
  expect(await reason()).toBe('ok');

  await fs.rename(image.boot!.kernel, image.boot!.kernel + '.away');
  expect(await reason()).toMatch(/tiny_[\d-]+[0-9a-f]{4}\.vmlinuz.*missing/);
  await fs.rename(image.boot!.kernel + '.away', image.boot!.kernel);

  const sidecar = await fs.readFile(path.join(dir, 'tiny.json'));
  await fs.writeFile(path.join(dir, 'tiny.json'), '{ broken');
  expect(await reason()).toMatch(/sidecar/);
  await fs.rm(path.join(dir, 'tiny.json'));
  expect(await reason()).toMatch(/sidecar/);
  // The sidecar names the disk: back with it for the disk's own checks.
  await fs.writeFile(path.join(dir, 'tiny.json'), sidecar);

  await execa('qemu-img', ['convert', '-O', 'raw', image.path, path.join(dir, 'raw')]);
  await fs.rename(path.join(dir, 'raw'), image.path);
  expect(await reason()).toMatch(/is raw, not qcow2/);

  await fs.rm(image.path);
  expect(await reason()).toMatch(/missing or unreadable/);
});

test('an image built by an older recipe is rebuilt', async () => {
  const log = recordingLog();
  const cache = new ImageCache({ dir, log });
  await cache.ensure('tiny');
  const sidecarPath = path.join(dir, 'tiny.json');
  const sidecar = JSON.parse(await fs.readFile(sidecarPath, 'utf8'));
  const current = sidecar.recipe;
  expect(current).toBeGreaterThan(0);
  await fs.writeFile(sidecarPath, JSON.stringify({ ...sidecar, recipe: current - 1 }));
  expect(await cache.validate('tiny')).toMatchObject({ ok: false, reason: expect.stringMatching(/older|recipe/) });
  await cache.ensure('tiny');
  expect(JSON.parse(await fs.readFile(sidecarPath, 'utf8')).recipe).toBe(current);
  expect(log.lines.some((l) => l.event.includes('older recipe'))).toBe(true);
});

test('two concurrent ensure() calls in one process build once', async () => {
  const logs = [recordingLog(), recordingLog()];
  const [a, b] = await Promise.all(logs.map((log) => new ImageCache({ dir, log }).ensure('tiny')));
  expect(a).toEqual(b);
  const builds = logs.flatMap((l) => l.lines).filter((l) => l.event === 'building image');
  expect(builds).toHaveLength(1);
  expect(await new ImageCache({ dir }).validate('tiny')).toEqual({ ok: true });
});

test('two processes ensuring the same image at once build it once and both get it', async () => {
  const script = path.join(dir, 'ensure.mts');
  await fs.writeFile(
    script,
    `import { ImageCache } from ${JSON.stringify(imagesIndex)};
// Start together (tsx start-up times differ), so both really find the cache empty.
await new Promise((r) => setTimeout(r, Number(process.argv[3]) - Date.now()));
const img = await new ImageCache({ dir: process.argv[2] }).ensure('tiny');
console.log(JSON.stringify(img));\n`,
  );
  const images = path.join(dir, 'images');
  const env = { DEMOTOOL_LOG_FORMAT: 'json', DEMOTOOL_LOG_LEVEL: 'info' };
  const startAt = String(Date.now() + 6000);
  const runs = await Promise.all([0, 1].map(() => execa('npx', ['tsx', script, images, startAt], { env })));
  const events = runs.flatMap((r) =>
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l)),
  );
  expect(events.filter((e) => e.event === 'building image')).toHaveLength(1);
  const [a, b] = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
  expect(a).toEqual(b);
  expect(path.dirname(a.path)).toBe(images);
  buildFiles(a);
  expect(await new ImageCache({ dir: images }).validate('tiny')).toEqual({ ok: true });
  expect((await fs.readdir(images)).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
});

test('list and remove', async () => {
  const cache = new ImageCache({ dir, log: recordingLog() });
  expect(await cache.list()).toEqual([]);
  await cache.ensure('tiny');
  await fs.writeFile(path.join(dir, 'junk.qcow2'), 'not an image');
  const listed = await cache.list({ validate: true });
  expect(listed.map((i) => [i.name, i.valid])).toEqual([
    ['junk', false],
    ['tiny', true],
  ]);
  const tiny = listed[1]!;
  expect(tiny.path).toBe((await cache.ensure('tiny')).path);
  expect(tiny.sizeBytes).toBe((await fs.stat(tiny.path)).size);
  expect((await cache.list())[0]?.valid).toBeUndefined();
  await cache.remove('tiny');
  expect(await cacheEntries(dir)).toEqual(['junk.qcow2']);
  await cache.remove('tiny'); // removing what is gone is fine
});

test('leftovers of a build that died are cleaned up', async () => {
  await fs.writeFile(path.join(dir, 'tiny.qcow2.tmp-99999-abcdef'), 'half');
  await fs.mkdir(path.join(dir, 'tiny.build-XyZ'));
  await fs.writeFile(path.join(dir, 'tiny.json.tmp-99999'), '{');
  const image = await new ImageCache({ dir, log: recordingLog() }).ensure('tiny');
  expect(await cacheEntries(dir)).toEqual(['tiny.json', ...buildFiles(image)]);
});

test('virt-builder failure: ImageBuildError with its stderr and a hint; a cached image is used instead', async () => {
  const log = recordingLog();
  const cache = new ImageCache({ dir, log });
  // An empty repository configuration, so virt-builder fails fast and offline.
  const env = { XDG_CONFIG_HOME: path.join(dir, 'cfg'), VIRT_BUILDER_DIRS: path.join(dir, 'sys') };
  const err = await cache.ensure('virt-builder:no-such-template-42', { virtBuilder: { install: [], env } }).catch((e) => e);
  expect(err).toBeInstanceOf(ImageBuildError);
  expect(err.code).toBe('EIMAGEBUILD');
  expect(err.message).toContain("image 'no-such-template-42'");
  expect(err.message).toContain("step 'virt-builder'");
  expect(err.stderrTail).toMatch(/virt-builder/);
  expect(err.hint).toMatch(/virt-builder --list/);
  const logged = log.lines.find((l) => l.level === 'error');
  expect(logged?.event).toBe('image build failed');
  expect(await fs.readdir(dir)).not.toContain('no-such-template-42.qcow2');

  // A sound cached copy (placed by hand) is kept when a forced rebuild fails.
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(dir, 'no-such-template-42.qcow2'), '16M']);
  const image = await cache.ensure('virt-builder:no-such-template-42', { rebuild: true, virtBuilder: { install: [], env } });
  expect(image).toEqual({
    name: 'no-such-template-42',
    path: cache.pathFor('no-such-template-42'),
    guestAgent: false,
    user: { name: 'demo', password: 'demokudasaidomo' },
  });
  expect(log.lines.filter((l) => l.level === 'error').at(-1)?.event).toBe('image build failed; using the cached image');
});
