import { availableParallelism, totalmem } from 'node:os';
import type { HostSize } from './resources.js';

/** The cores this process may run on (its CPU affinity) and the host's RAM. */
export function hostSize(): HostSize {
  return { cpus: availableParallelism(), memoryBytes: totalmem() };
}
