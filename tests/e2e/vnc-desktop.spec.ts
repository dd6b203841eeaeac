import { test, expect } from '../../fixtures/index.js';
import type { Vm } from '../../src/index.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FREEZER, freezeVcpus, virsh } from './support/host.js';
import { randomText } from './support/vm.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
// One desktop VM for the file, from the fixtures (our tests are their first users).
test.use({ vmImage: 'debian-12-desktop', demoOutputDir: 'test-results/demo-videos' });

interface Geometry {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The first xterm's client area on screen, from xwininfo (xdotool's Y is off under a reparenting WM). */
async function xtermGeometry(vm: Vm): Promise<Geometry> {
  const r = await vm.exec('xwininfo -id $(xdotool search --class xterm | head -1)');
  expect(r.exitCode, r.stderr).toBe(0);
  const v = (label: string) => Number(r.stdout.match(new RegExp(`${label}:\\s+(-?\\d+)`))![1]);
  return { x: v('Absolute upper-left X'), y: v('Absolute upper-left Y'), width: v('Width'), height: v('Height') };
}

async function raw(png: Buffer) {
  return sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
}

test('the desktop is up: 1280x800, not black, guest agent answers as demo', async ({ vm }, testInfo) => {
  const png = await vm.screenshot({ path: testInfo.outputPath('desktop.png') });
  const { info, data } = await raw(png);
  expect([info.width, info.height]).toEqual([1280, 800]);
  const nonBlack = data.filter((v, i) => i % 4 !== 3 && v > 16).length;
  expect(nonBlack / (data.length * 0.75)).toBeGreaterThan(0.5);
  const r = await vm.exec('id -un');
  expect(r).toEqual({ stdout: 'demo\n', stderr: '', exitCode: 0 });
});

test("the X server goes first: nice -10, and its input thread real-time (so it keeps up with the keyboard's queue)", async ({ vm }) => {
  const r = await vm.exec('ps -L -o ni=,cls=,rtprio=,comm= -p $(pgrep -x Xorg)');
  expect(r.exitCode, r.stderr).toBe(0);
  const threads = r.stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
  expect(threads.find((t) => t[3] === 'Xorg')?.[0]).toBe('-10');
  expect(threads.find((t) => t[3] === 'InputThread')?.slice(1, 3)).toEqual(['FF', '50']);
});

test('vm.screenshot() equals virsh screenshot of the same still screen, pixel for pixel', async ({ vm }, testInfo) => {
  await vm.waitForStableScreen({ duration: 1000 });
  const before = await raw(await vm.screenshot());
  const ppm = testInfo.outputPath('virsh.ppm');
  await virsh('screenshot', vm.name, ppm);
  const after = await raw(await vm.screenshot());
  expect(Buffer.compare(before.data, after.data), 'the screen changed during the comparison').toBe(0);
  const theirs = await sharp(ppm).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([theirs.info.width, theirs.info.height]).toEqual([before.info.width, before.info.height]);
  let differing = 0;
  for (let i = 0; i < before.data.length; i++) if (before.data[i] !== theirs.data[i]) differing++;
  expect(differing).toBe(0);
});

test('click the xterm to focus it and type into it', async ({ vm }) => {
  const g = await xtermGeometry(vm);
  await vm.mouse.click(g.x + g.width / 2, g.y + g.height / 2);
  const from = vm.serial.mark();
  await vm.keyboard.type('echo typed-into-xterm > /dev/ttyS0\n', { delay: 20 });
  await vm.waitForSerial(/typed-into-xterm/, { from });
});

test("typed into the xterm at delay 0 while the guest's vCPU is frozen for 800 ms: every character arrives", async ({ vm }) => {
  test.skip(!existsSync(FREEZER), `no cgroup v1 freezer at ${FREEZER} to stop a vCPU thread with`);
  const text = randomText(400);
  await vm.keyboard.type('cat > /tmp/typed-through-stall\n', { delay: 0 });
  // The shell has run cat once the file exists (its name is no word for OCR).
  await expect.poll(async () => (await vm.exec('test -e /tmp/typed-through-stall && echo yes')).stdout, { timeout: 30_000 }).toBe('yes\n');
  const freezing = freezeVcpus(vm.name, 800, { after: 500 });
  const from = performance.now();
  await vm.keyboard.type(`${text}\n`, { delay: 0 });
  const to = performance.now();
  const frozeAt = await freezing;
  // The stall fell while keys were still being sent, or the test proves nothing.
  expect(frozeAt).toBeGreaterThan(from);
  expect(frozeAt).toBeLessThan(to);
  await vm.keyboard.press('Control+D');
  await expect.poll(async () => (await vm.exec('cat /tmp/typed-through-stall')).stdout, { timeout: 30_000 }).toBe(`${text}\n`);
});

// Where typed keys were lost: Xorg's log tells whether the X server fell behind the kernel's queue.
test.afterEach(async ({ vm }, testInfo) => {
  if (testInfo.status === testInfo.expectedStatus || !testInfo.title.startsWith('typed into')) return;
  const log = await vm.exec('grep -i -E "SYN_DROPPED|lagging behind" ~/.local/share/xorg/Xorg.0.log | tail -n 8');
  await testInfo.attach("Xorg's input log", { body: log.stdout || '(nothing about lost or late input)\n', contentType: 'text/plain' });
});

test('drag the xterm by its title bar: the window moves', async ({ vm }, testInfo) => {
  const before = await xtermGeometry(vm);
  const grab = { x: before.x + 80, y: before.y - 8 };
  await vm.mouse.drag(grab, { x: grab.x + 200, y: grab.y + 120 }, { steps: 20 });
  await vm.waitForStableScreen({ duration: 500 });
  const after = await xtermGeometry(vm);
  await vm.screenshot({ path: testInfo.outputPath('after-drag.png') });
  expect(after.x - before.x).toBeGreaterThan(150);
  expect(after.y - before.y).toBeGreaterThan(80);
});

test('waitForScreen matches a region after a 5-pixel shift, and ignores a masked area', async ({ vm }) => {
  const id = (await vm.exec('xdotool search --class xterm | head -1')).stdout.trim();
  // xdotool places the frame, the client lands offset by the decorations: measure that offset once.
  const g0 = await xtermGeometry(vm);
  await vm.exec(`xdotool windowmove ${id} ${g0.x} ${g0.y}`);
  const g = await xtermGeometry(vm);
  const offset = { x: g.x - g0.x, y: g.y - g0.y };
  await vm.waitForStableScreen({ duration: 500 });
  const region = { x: g.x, y: g.y, width: 200, height: 120 };
  const needle = await vm.screenshot({ clip: region });
  await vm.exec(`xdotool windowmove ${id} ${g.x - offset.x + 5} ${g.y - offset.y + 5}`);
  const moved = await xtermGeometry(vm);
  expect([moved.x - g.x, moved.y - g.y]).toEqual([5, 5]);
  const m = await vm.waitForScreen(needle, { region, timeout: 10_000 });
  expect([m.x - region.x, m.y - region.y]).toEqual([5, 5]);
  expect(m.similarity).toBeGreaterThan(0.98);

  // Paint a block into the needle: it no longer matches well, unless that area is excluded.
  const { data, info } = await raw(needle);
  for (let y = 20; y < 80; y++) for (let x = 20; x < 120; x++) data.fill(0, (y * info.width + x) * 4, (y * info.width + x) * 4 + 3);
  const damaged = await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } })
    .png()
    .toBuffer();
  const masked = await vm.waitForScreen(damaged, { region, exclude: [{ x: 20, y: 20, width: 100, height: 60 }], timeout: 10_000 });
  expect([masked.x - region.x, masked.y - region.y]).toEqual([5, 5]);
  expect(masked.similarity).toBeGreaterThan(0.98);
  const unmasked = await vm.findImage(damaged, { region, threshold: 0 });
  expect(unmasked!.similarity).toBeLessThan(0.9);
});

test('waitForScreen times out naming the best similarity, with actual and diff images written', async ({ vm }) => {
  const g = await xtermGeometry(vm);
  const region = { x: g.x, y: g.y, width: 160, height: 100 };
  const inverted = await sharp(await vm.screenshot({ clip: region }))
    .negate({ alpha: false })
    .png()
    .toBuffer();
  const error = (await vm.waitForScreen(inverted, { region, timeout: 2000 }).catch((e: unknown) => e)) as Error & {
    bestSimilarity: number;
    actualPath: string;
    diffPath: string;
  };
  expect(error.name).toBe('ScreenMatchTimeoutError');
  expect(error.message).toMatch(/best similarity/i);
  expect(error.bestSimilarity).toBeLessThan(0.9);
  expect(existsSync(error.actualPath)).toBe(true);
  expect(existsSync(error.diffPath)).toBe(true);
  expect(error.actualPath.startsWith(vm.demo.artifactsDir())).toBe(true);
  expect(readFileSync(error.diffPath).subarray(1, 4).toString()).toBe('PNG');
});

test("right-click on the desktop opens openbox's menu, matched with waitForScreen", async ({ vm }, testInfo) => {
  const needle = join(import.meta.dirname, 'needles', 'openbox-root-menu.png');
  await vm.mouse.click(1100, 650, { button: 'right' });
  const m = await vm.waitForScreen(needle, { timeout: 15_000 });
  await vm.screenshot({ path: testInfo.outputPath('menu.png') });
  expect(m.similarity).toBeGreaterThan(0.95);
  // The menu opens at the pointer.
  expect(Math.abs(m.x - 1100)).toBeLessThan(40);
  await vm.keyboard.press('Escape');
});

test('a recorded section draws the pointer where it was at each moment', async ({ vm }, testInfo) => {
  const { frameAt } = await import('./record-helpers.js');
  const marks: { at: number; x: number; y: number }[] = [];
  let t0 = 0;
  const result = await vm.record('pointer', async () => {
    t0 = performance.now();
    for (const [x, y] of [
      [700, 600],
      [1000, 300],
    ] as const) {
      await vm.mouse.move(x, y, { duration: 300 });
      await new Promise((r) => setTimeout(r, 1500));
      // Near the end of the hold: the pointer has long arrived (moves are slower on a busy host).
      marks.push({ at: (performance.now() - t0) / 1000 - 0.25, x, y });
    }
  });
  // Pointer pixels: dark or light, unlike the blue background around them.
  const pointerPixels = (f: { width: number; rgb: Buffer }, x: number, y: number) => {
    let n = 0;
    for (let dy = 1; dy < 12; dy++)
      for (let dx = 1; dx < 6; dx++) {
        const i = ((y + dy) * f.width + (x + dx)) * 3;
        const [r, g, b] = [f.rgb.readUInt8(i), f.rgb.readUInt8(i + 1), f.rgb.readUInt8(i + 2)];
        if (Math.abs(r - 0x3b) + Math.abs(g - 0x6e) + Math.abs(b - 0xa5) > 90) n++;
      }
    return n;
  };
  for (const [k, mark] of marks.entries()) {
    const frame = await frameAt(result.path, mark.at);
    const other = marks[1 - k];
    if (!other) throw new Error('expected two pointer marks');
    expect(pointerPixels(frame, mark.x, mark.y), `pointer at ${mark.x},${mark.y}`).toBeGreaterThan(10);
    expect(pointerPixels(frame, other.x, other.y), `no pointer at ${other.x},${other.y}`).toBe(0);
  }
  void testInfo;
});
