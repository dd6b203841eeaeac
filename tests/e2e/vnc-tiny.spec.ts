import { test, expect } from '../../fixtures/index.js';
import { statSync } from 'node:fs';
import sharp from 'sharp';
import { GuestAgentError, type Vm } from '../../src/index.js';
import { PRINTABLE } from './support/vm.js';
import { virsh } from './support/host.js';

test.describe.configure({ mode: 'serial', timeout: 5 * 60_000 });
// One tiny VM for the file, from the fixtures (our tests are their first users).
test.use({ vmImage: 'tiny' });

/** Types `line` into `cat > /dev/ttyS0` and returns what arrived on the serial port. */
async function typeThroughSerial(vm: Vm, line: string, delay?: number): Promise<string> {
  const from = vm.serial.mark();
  await vm.keyboard.type('cat > /dev/ttyS0\n', { delay: 0 });
  await new Promise((r) => setTimeout(r, 300));
  await vm.keyboard.type(line + '\n', { delay });
  await vm.keyboard.press('Control+D');
  await vm.keyboard.type('echo END-OF-LINE-TEST > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/END-OF-LINE-TEST/, { from });
  const [before = ''] = vm.serial.text().slice(from).split('END-OF-LINE-TEST');
  return before;
}

test('all 95 printable ASCII characters arrive exactly at the default, human-like delay', async ({ vm }) => {
  const got = await typeThroughSerial(vm, PRINTABLE);
  expect(got.split(/\r?\n/)).toContain(PRINTABLE);
});

test('all 95 printable ASCII characters arrive exactly at delay 0', async ({ vm }) => {
  const line = PRINTABLE + PRINTABLE.split('').reverse().join('');
  const got = await typeThroughSerial(vm, line, 0);
  expect(got.split(/\r?\n/)).toContain(line);
});

test('Control+C interrupts, Control+D ends input, Tab completes, Backspace erases', async ({ vm }) => {
  const from = vm.serial.mark();
  await vm.keyboard.type('sleep 100\n', { delay: 0 });
  await new Promise((r) => setTimeout(r, 500));
  await vm.keyboard.press('Control+C');
  await vm.keyboard.type('echo rc=$? > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/rc=130/, { from });

  await vm.keyboard.type('cat > /dev/ttyS0\nbefore-eof\n', { delay: 0 });
  await vm.keyboard.press('Control+D');
  await vm.keyboard.type('echo after-eof > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/before-eof\r?\nafter-eof/, { from });

  await vm.keyboard.type('cat /proc/versi', { delay: 0 });
  await vm.keyboard.press('Tab');
  await vm.keyboard.type(' > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/Linux version \d/, { from });

  await vm.keyboard.type('echo abcX', { delay: 0 });
  await vm.keyboard.press('Backspace');
  await vm.keyboard.type('d-erased > /dev/ttyS0', { delay: 0 });
  await vm.keyboard.press('Enter');
  await vm.waitForSerial(/abcd-erased/, { from });
});

test('waitForText finds typed text on the console with OCR', async ({ vm }) => {
  await vm.keyboard.type('clear; echo OCR WORKS 4711\n', { delay: 0 });
  const { match } = await vm.waitForText(/OCR WORKS 4711/);
  expect(match[0]).toBe('OCR WORKS 4711');
});

test('vm.exec without a guest agent fails at once with a clear error', async ({ vm }) => {
  const t = Date.now();
  const error = await vm.exec('id -un').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GuestAgentError);
  expect((error as GuestAgentError).code).toBe('ENOAGENT');
  expect((error as Error).message).toMatch(/no qemu-guest-agent/);
  expect(Date.now() - t).toBeLessThan(1000);
});

test('after a snapshot revert (QEMU restarts) the same vm types and takes screenshots again', async ({ vm }) => {
  await vm.keyboard.type('clear; echo before-snapshot\n', { delay: 0 });
  await vm.snapshot('clean');
  expect((await vm.snapshots()).map((s) => s.name)).toContain('clean');
  const idBefore = await virsh('domid', vm.name);
  await vm.keyboard.type('echo changed-after-snapshot\n', { delay: 0 });
  await vm.revert('clean');
  expect(await virsh('domstate', vm.name)).toBe('running');
  // libvirt restarted QEMU, which made its VNC socket anew: the client made it owner-only again.
  const socket = (vm.vncEndpoint as { socket: string }).socket;
  expect(await virsh('domdisplay', vm.name)).toBe(`vnc+unix://${socket}`);
  expect(statSync(socket).mode & 0o777).toBe(0o600);
  // libvirt restarted QEMU: a new domain id, and the VNC client connected again.
  expect(await virsh('domid', vm.name)).not.toBe(idBefore);
  const from = vm.serial.mark();
  await vm.keyboard.type('echo typed-after-revert > /dev/ttyS0\n', { delay: 0 });
  await vm.waitForSerial(/typed-after-revert/, { from });
  const png = await vm.screenshot();
  const meta = await sharp(png).metadata();
  expect(meta.width).toBeGreaterThan(600);
  await vm.waitForText(/typed-after-revert/);
});
