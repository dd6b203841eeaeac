/**
 * How many bytes the guest has read from its PS/2 keyboard, read through our own QEMU monitor.
 * QEMU's PS/2 keyboard queue holds 16 bytes and drops the rest silently; nothing reports how full
 * it is. But the i8042 controller raises IRQ 1 once for each byte it hands the guest (measured on
 * QEMU 7.2: 304 key events, 304 rising edges), and QEMU counts those edges. Bytes sent and not yet
 * counted are in the queue, so a sender that keeps few on their way loses none while the guest's
 * vCPU stands still. The count goes on whichever interrupt controller the guest uses: the ISA line
 * reaches both.
 */
import type { QemuMonitor } from './qemu-monitor.js';

/** The keyboard's interrupt line on a PC. */
const KEYBOARD_IRQ = 1;

/** The controllers `info irq` reports counts for, the first one found counting. */
const COUNTERS = ['ioapic', 'kvm-ioapic', 'isa-i8259'];

export class Ps2KeyboardBytes {
  constructor(private readonly monitor: QemuMonitor) {}

  /** Bytes the guest has taken, as counted by this QEMU; undefined where it keeps no count (not a PC). Rejects when QEMU can't be asked. */
  async read(): Promise<number | undefined> {
    const text = await this.monitor.execute<string>('human-monitor-command', { 'command-line': 'info irq' });
    return irqCount(text, KEYBOARD_IRQ);
  }
}

/**
 * The count of `line` in `info irq`'s answer ("IRQ statistics for ioapic:", then " 1: 384" for each
 * line that has fired): 0 for a line that has not fired; undefined when no known controller is listed.
 */
export function irqCount(infoIrq: string, line: number): number | undefined {
  const blocks = new Map<string, string>();
  for (const block of infoIrq.split(/^IRQ statistics for /m).slice(1)) {
    const [name = '', ...lines] = block.split(/\r?\n/);
    blocks.set(name.replace(/:$/, ''), lines.join('\n'));
  }
  const counts = COUNTERS.map((name) => blocks.get(name)).find((b) => b !== undefined);
  if (counts === undefined) return undefined;
  const match = new RegExp(`^\\s*${line}:\\s*(\\d+)\\s*$`, 'm').exec(counts);
  return match ? Number(match[1]) : 0;
}
