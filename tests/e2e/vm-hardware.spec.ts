/**
 * Hardware profiles on a real guest: tiny's kernel loads IDE/SATA, e1000/RTL8139 and virtio
 * drivers alike, so what it finds on its PCI bus and disks is what the profile gave it. The
 * guest answers on its serial console (written to through the console's socket: the legacy
 * profile's PS/2 keyboard is slow to type on).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { startDemo, ImageCache, backendsOf, type Vm, type VmOptions } from '../../src/index.js';

// One line per PCI device (vendor:device driver), the block devices, the NIC's driver, the RTC.
// The tags are written "H"W-... so that the shell's echo of the command line doesn't match them.
const PROBE = [
  'for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/block/sda ] || [ -e /sys/block/vda ] && break; sleep 1; done',
  'for d in /sys/bus/pci/devices/*; do echo "H""W-PCI $(cat $d/vendor):$(cat $d/device) $(basename "$(readlink $d/driver)")"; done',
  'echo "H""W-BLOCK $(ls /sys/block | tr "\\n" " ")"',
  'echo "H""W-NIC $(basename "$(readlink /sys/class/net/eth0/device/driver)")"',
  'echo "H""W-RTC $(cat /sys/class/rtc/rtc0/since_epoch)"',
  'echo "H""W-EFI $([ -d /sys/firmware/efi ] && echo yes || echo no)"',
  'echo H""W-DONE',
].join('; ');

interface Seen {
  pci: { id: string; driver: string }[];
  block: string[];
  nic: string;
  rtc: number;
  /** Booted by UEFI firmware. */
  efi: boolean;
  qemuArgs: string[];
  xml: string;
}

/** Runs PROBE in the guest's serial shell and reads its answer out of the serial log. */
async function probe(vm: Vm): Promise<Seen> {
  const { domain } = backendsOf(vm);
  const from = vm.serial.mark();
  // QEMU drops what the guest has not read yet when the client leaves: the socket stays open until the answer.
  const serialConsole = createConnection(vm.channels.consoleSocket!);
  try {
    await once(serialConsole, 'connect');
    serialConsole.write(`\r${PROBE}\r`);
    await vm.waitForSerial(/HW-DONE\s*$/m, { from, timeout: 60_000 });
  } finally {
    serialConsole.destroy();
  }
  const out = vm.serial.text().slice(-20_000);
  const last = (tag: string) => [...out.matchAll(new RegExp(`^${tag} (.*?)\\s*$`, 'gm'))].map((m) => m[1]!);
  const pid = domain.qemuPid();
  expect(pid, 'the QEMU process').toBeDefined();
  return {
    pci: last('HW-PCI').map((l) => ({ id: l.split(' ')[0]!, driver: l.split(' ')[1] ?? '' })),
    block: last('HW-BLOCK').at(-1)!.split(/\s+/).filter(Boolean),
    nic: last('HW-NIC').at(-1)!,
    rtc: Number(last('HW-RTC').at(-1)),
    efi: last('HW-EFI').at(-1) === 'yes',
    qemuArgs: readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0'),
    xml: await domain.xml(),
  };
}

let cacheHome: string;
let cache: ImageCache;
test.beforeAll(() => {
  // A short path (VM sockets live under the cache), and tiny built for these tests alone.
  cacheHome = mkdtempSync('/tmp/hw-');
  cache = new ImageCache({ dir: join(cacheHome, 'images') });
});
test.afterAll(() => rmSync(cacheHome, { recursive: true, force: true }));

async function boot(info: { outputPath: (p: string) => string }, options: VmOptions): Promise<Seen> {
  let seen: Seen | undefined;
  await startDemo('hardware', { outputDir: info.outputPath('v'), imageCache: cache }, (demo) =>
    demo.vm('tiny', { accel: 'tcg', start: 'cold', ...options }, async (vm) => {
      seen = await probe(vm);
    }),
  );
  // What the guest saw, for the report.
  await test.info().attach('guest-devices.json', { body: JSON.stringify({ ...seen, xml: undefined }, null, 2), contentType: 'application/json' });
  return seen!;
}

test('legacy-windows: the guest finds an IDE disk (sda), an e1000, a standard VGA and no virtio device; the RTC runs on local time', async ({}, info) => {
  test.setTimeout(6 * 60_000);
  const seen = await boot(info, { hardware: 'legacy-windows' });
  const ids = seen.pci.map((d) => d.id);
  // No virtio device on the bus (vendor 0x1af4), in the definition or on QEMU's command line.
  expect(ids.filter((id) => id.startsWith('0x1af4:'))).toEqual([]);
  expect(seen.xml).not.toMatch(/virtio/i);
  expect(seen.qemuArgs.join(' ')).not.toMatch(/virtio/i);
  // The e1000 (8086:100e), bound to its driver and named eth0.
  expect(seen.pci).toContainEqual({ id: '0x8086:0x100e', driver: 'e1000' });
  expect(seen.nic).toBe('e1000');
  expect(seen.efi).toBe(false);
  // The disk through the PIIX IDE controller and libata: sda, not vda.
  expect(seen.pci).toContainEqual({ id: '0x8086:0x7010', driver: 'ata_piix' });
  expect(seen.block).toContain('sda');
  expect(seen.block).not.toContain('vda');
  // QEMU's standard VGA (1234:1111) and USB 1.1 (PIIX3 UHCI, 8086:7020) for the tablet.
  expect(ids).toContain('0x1234:0x1111');
  expect(ids).toContain('0x8086:0x7020');
  // The RTC keeps the host's local time (equal to UTC when the host's time zone is UTC).
  expect(seen.qemuArgs.join(' ')).toContain('base=localtime');
  const localNow = Date.now() / 1000 - new Date().getTimezoneOffset() * 60;
  expect(Math.abs(seen.rtc - localNow)).toBeLessThan(120);
});

test('single devices replace the profile’s: SATA (AHCI), RTL8139 and Cirrus under legacy-windows, still without virtio', async ({}, info) => {
  test.setTimeout(6 * 60_000);
  const seen = await boot(info, { hardware: { profile: 'legacy-windows', disk: 'sata', nic: 'rtl8139', video: 'cirrus', clock: 'utc' } });
  const ids = seen.pci.map((d) => d.id);
  expect(ids.filter((id) => id.startsWith('0x1af4:'))).toEqual([]);
  expect(seen.pci).toContainEqual({ id: '0x10ec:0x8139', driver: '8139cp' });
  expect(seen.nic).toBe('8139cp');
  expect(seen.pci).toContainEqual({ id: '0x8086:0x2922', driver: 'ahci' });
  expect(seen.block).toContain('sda');
  expect(ids).toContain('0x1013:0x00b8'); // Cirrus CLGD 5446
  expect(seen.qemuArgs.join(' ')).toContain('base=utc');
});

test('modern-linux stays virtio: vda, virtio-net and virtio-vga', async ({}, info) => {
  test.setTimeout(6 * 60_000);
  const seen = await boot(info, { hardware: 'modern-linux' });
  expect(seen.block).toContain('vda');
  expect(seen.block).not.toContain('sda');
  expect(seen.nic).toBe('virtio_net');
  expect(seen.pci.map((d) => d.id)).toContain('0x1af4:0x1050'); // virtio-vga
  expect(seen.efi).toBe(false);
  expect(seen.qemuArgs.join(' ')).toContain('base=utc');
});

test('uefi: OVMF boots the guest (it sees EFI firmware), with the modern-linux devices', async ({}, info) => {
  test.setTimeout(6 * 60_000);
  const seen = await boot(info, { hardware: 'uefi' });
  expect(seen.efi).toBe(true);
  expect(seen.xml).toMatch(/<loader[^>]*type='rom'[^>]*>\/usr\/share\/(ovmf|OVMF)\/OVMF\.fd<\/loader>/);
  expect(seen.block).toContain('vda');
  expect(seen.nic).toBe('virtio_net');
});
