import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ImageCache, startDemo, type Vm } from '../../src/index.js';
import { readSaveImage } from '../../src/libvirt/save-image.js';
import { vncSocketDir } from '../../src/api/vnc-access.js';

// Warm starts of tiny: a shape of its own (an odd memory size), so the first boot is cold here
// whatever other tests saved, and the saved boot is removed afterwards. The last test restores
// the desktop in its usual shape, whose clock goes through the guest agent.
test.describe.configure({ mode: 'serial', timeout: 300_000 });

// Where the demos below save their boots: the default image cache's saved-boots dir.
const savedBootsDir = () => new ImageCache().savedBootsDir;

/** The saved boots there now, with the memory size (MiB) each header names: none while one is still being written. */
async function savedBoots(): Promise<{ entry: string; memoryMiB?: number }[]> {
  const found = [];
  for (const entry of await fs.readdir(savedBootsDir()).catch(() => [])) {
    if (entry.endsWith('.lock')) continue;
    const header = await readSaveImage(path.join(savedBootsDir(), entry, 'state.sav')).catch(() => undefined);
    const kib = header && /<memory unit='KiB'>(\d+)<\/memory>/.exec(header.xml)?.[1];
    found.push({ entry, memoryMiB: kib ? Number(kib) / 1024 : undefined });
  }
  return found;
}

// An odd memory size no saved boot has: a shape of this file's own. Not one fixed size: an
// earlier run cut off before its afterAll leaves its boot behind, or only its directory, whose
// name (a hash of the shape) then can't be told from a new one's.
let memoryMiB = 0;
const options = () => ({ resources: { memoryMiB }, start: 'warm' }) as const; // explicit: DEMOTOOL_START=cold may set the run's default

test.beforeAll(async () => {
  const taken = new Set((await savedBoots()).map((b) => b.memoryMiB));
  do memoryMiB = 520 + Math.floor(Math.random() * 200);
  while (taken.has(memoryMiB));
});

/** Saved boots this file damaged on purpose: their headers no longer say whose they are. */
const damaged = new Set<string>();

/** Saved boots made here: of this file's memory size, or damaged here. */
async function ours(): Promise<string[]> {
  return (await savedBoots()).filter((b) => damaged.has(b.entry) || b.memoryMiB === memoryMiB).map((b) => b.entry);
}

test.afterAll(async () => {
  for (const entry of await ours()) await fs.rm(path.join(savedBootsDir(), entry), { recursive: true, force: true });
});

/** Runs a shell line on tiny's tty1 (through VNC keys) and reads what it prints to ttyS0. */
async function run(vm: Vm, line: string, answer: RegExp): Promise<RegExpMatchArray> {
  await vm.keyboard.type(`${line} > /dev/ttyS0\n`);
  return vm.waitForSerial(answer, { timeout: 30_000 });
}

/** The guest's serial console: a unix socket QEMU listens on, beside the VM's other sockets. */
function consoleSocket(vm: Vm): string {
  return path.join(vncSocketDir(), `${vm.name}.console.sock`);
}

async function clockOffset(vm: Vm): Promise<number> {
  const token = Math.random().toString(36).slice(2, 8);
  const m = await run(vm, `echo ${token}-$(date +%s)`, new RegExp(`${token}-(\\d{9,})`));
  return Number(m[1]) - Date.now() / 1000;
}

test('the first boot of a shape is cold and saved; later ones are warm, take keys, keep time and are isolated from each other', async () => {
  await startDemo('warm-start', async (demo) => {
    const first = await demo.vm('tiny', options());
    expect(first.started).toBe('cold');
    expect(first.timings.save).toBeGreaterThan(0);
    expect(await ours()).toHaveLength(1);
    // The saved VM goes on after the save: it still takes keys.
    await run(first, 'echo first-after-save', /first-after-save/);
    // Its clock too stood still while it was saved, and is set again.
    expect(Math.abs(await clockOffset(first))).toBeLessThan(2);
    await first.close();
    const meta = path.join(savedBootsDir(), (await ours())[0]!, 'saved.json');
    const savedAt = (await fs.stat(meta)).mtimeMs;

    const [a, b] = await Promise.all([demo.vm('tiny', options()), demo.vm('tiny', options())]);
    // Each restore is a use of the saved boot, for `images prune`.
    expect((await fs.stat(meta)).mtimeMs).toBeGreaterThan(savedAt);
    for (const vm of [a, b]) {
      expect(vm.started).toBe('warm');
      expect(vm.timings.restore).toBeGreaterThan(0);
      expect(vm.timings.start).toBeUndefined();
      // virsh restore returns with the guest running: no wait for it, and no settling (the saved boot settled before it was saved).
      expect(vm.timings.running).toBeUndefined();
      expect(vm.resources.memoryMiB).toBe(memoryMiB);
      // The clock stood still for seconds since the save; it is set again at restore, through the console's socket, to the second.
      expect(Math.abs(await clockOffset(vm))).toBeLessThan(2);
      await expect(fs.stat(consoleSocket(vm)).then((st) => st.isSocket())).resolves.toBe(true);
      // Its serial log begins with what the boot printed before the save, as a cold boot's does: the ready marker is there at once.
      await vm.waitForSerial(/DEMOTOOL-READY/, { timeout: 1_000 });
      // And nothing the saved VM printed after the save.
      expect(vm.serial.text()).not.toContain('first-after-save');
    }
    expect(a.name).not.toBe(b.name);

    // Memory: a file made in one copy is not in the other.
    await run(a, 'echo only-in-a > /tmp/mine; cat /tmp/mine', /only-in-a/);
    await run(b, 'echo b-sees-$(cat /tmp/mine 2>/dev/null || echo nothing)', /b-sees-(\S+)/).then((m) => expect(m[1]).toBe('nothing'));
    // Disk: a block written by one copy is not on the other's disk (each has its own overlay).
    await run(a, 'echo DISK-OF-A | dd of=/dev/vda bs=512 seek=2048 conv=notrunc,fsync 2>/dev/null; echo written', /written/);
    const onB = await run(b, 'echo b-disk-$(dd if=/dev/vda bs=512 skip=2048 count=1 2>/dev/null | head -c 9 | tr -cd A-Z-)-end', /b-disk-(\S*)-end/);
    expect(onB[1]).not.toContain('DISK-OF-A');
    // Serial logs and screens are their own: what A printed is not in B's log.
    expect(b.serial.text()).not.toContain('only-in-a');
    await Promise.all([a.close(), b.close()]);
    for (const vm of [a, b]) await expect(fs.stat(consoleSocket(vm))).rejects.toThrow(/ENOENT/);
  });
});

test('a damaged saved boot is refused with a warning: the VM boots cold and the boot is saved again', async () => {
  const [dir] = await ours();
  expect(dir).toBeDefined();
  const state = path.join(savedBootsDir(), dir!, 'state.sav');
  damaged.add(dir!);
  const file = await fs.open(state, 'r+');
  await file.write(Buffer.from('NotALibvirtSave!'), 0, 16, 0);
  await file.close();
  await startDemo('warm-start-damaged', async (demo) => {
    await demo.vm('tiny', options(), async (vm) => {
      expect(vm.started).toBe('cold');
      expect(vm.timings.save).toBeGreaterThan(0);
      await run(vm, 'echo cold-again', /cold-again/);
    });
    await demo.vm('tiny', options(), async (vm) => expect(vm.started).toBe('warm'));
  });
});

test("start: 'cold' boots from the image even with a saved boot, and saves nothing", async () => {
  await startDemo('warm-start-cold', async (demo) => {
    await demo.vm('tiny', { ...options(), start: 'cold' }, async (vm) => {
      expect(vm.started).toBe('cold');
      expect(vm.timings.start).toBeGreaterThan(0);
      expect(vm.timings.save).toBeUndefined();
    });
  });
});

test("a warm desktop's clock is set through its guest agent, to within a second", async () => {
  // The desktop's usual shape: its saved boot is shared with the other desktop tests (the first VM saves it if none does yet).
  await startDemo('warm-start-desktop', async (demo) => {
    let vm = await demo.vm('debian-12-desktop', { start: 'warm' });
    if (vm.started === 'cold') {
      await vm.close();
      vm = await demo.vm('debian-12-desktop', { start: 'warm' });
    }
    expect(vm.started).toBe('warm');
    // The guest read its clock somewhere between these two moments. Comparing with the moment after
    // the answer counted the answer's time as clock error: 1.55 s once, on a loaded host.
    const asked = Date.now() / 1000;
    const guest = Number((await vm.exec('date +%s.%N', { user: 'root' })).stdout);
    const answered = Date.now() / 1000;
    expect(guest).toBeGreaterThan(asked - 1);
    expect(guest).toBeLessThan(answered + 1);
    await vm.close();
  });
});
