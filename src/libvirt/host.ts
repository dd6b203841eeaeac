import si from 'systeminformation';
import type { HostSize } from './resources.js';

/** Host cores and RAM, read with systeminformation. */
export async function hostSize(): Promise<HostSize> {
  const [cpu, mem] = await Promise.all([si.cpu(), si.mem()]);
  return { cpus: cpu.cores || cpu.physicalCores || 1, memoryBytes: mem.total };
}
