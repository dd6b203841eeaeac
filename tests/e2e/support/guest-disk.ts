import type { Vm } from '../../../src/index.js';

/**
 * Writes `guest-was-here` to the start of tiny's disk (/dev/vda) and reads it back over the serial
 * port. Keys typed while the console's shell is still starting are lost on a loaded host: it types
 * again, up to three times.
 */
export async function writeToGuestDisk(vm: Vm, timeout: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const from = vm.serial.mark();
    await vm.keyboard.type('echo guest-was-here > /dev/vda; sync; echo WROTE-$(head -c 14 /dev/vda) > /dev/ttyS0\n', { delay: 0 });
    const wrote = await vm.waitForSerial('WROTE-guest-was-here', { from, timeout }).then(
      () => true,
      (e: unknown) => (attempt < 3 ? false : Promise.reject(e)),
    );
    if (wrote) return;
  }
}
