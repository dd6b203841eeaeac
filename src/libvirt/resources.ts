/** CPU and memory for a VM: half of the host, clamped to what the guest needs, and 25% less on each of up to three retries when QEMU can't get it. */
export interface Resources {
  cpus: number;
  memoryMiB: number;
}

export interface HostSize {
  cpus: number;
  memoryBytes: number;
}

const GiB = 1024;
const RESOURCE_LIMITS = {
  cpu: { share: 0.5, min: 1, max: 8 },
  memoryMiB: { share: 0.5, min: 4 * GiB, max: 32 * GiB },
  retries: 3,
  retryFactor: 0.75,
} as const;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** 50% of host cores (1..8) and 50% of host RAM (4..32 GiB), unless overridden. */
export function planResources(host: HostSize, override: Partial<Resources> = {}): Resources {
  const { cpu, memoryMiB } = RESOURCE_LIMITS;
  const cpus = override.cpus ?? clamp(Math.floor(host.cpus * cpu.share), cpu.min, cpu.max);
  const hostMiB = Math.floor(host.memoryBytes / (1024 * 1024));
  const memory = override.memoryMiB ?? clamp(Math.floor(hostMiB * memoryMiB.share), memoryMiB.min, memoryMiB.max);
  return { cpus: Math.max(1, Math.floor(cpus)), memoryMiB: Math.floor(memory) };
}

/**
 * When QEMU can't get the memory, ask for 25% less, at most 3 times.
 * Returns the plans to try in order (the first is the original). Never below `floorMiB`.
 */
export function resourceAttempts(first: Resources, floorMiB = 256): Resources[] {
  const attempts = [first];
  let current = first;
  for (let i = 0; i < RESOURCE_LIMITS.retries; i++) {
    current = {
      cpus: Math.max(1, Math.floor(current.cpus * RESOURCE_LIMITS.retryFactor)),
      memoryMiB: Math.max(floorMiB, Math.floor(current.memoryMiB * RESOURCE_LIMITS.retryFactor)),
    };
    attempts.push(current);
  }
  return attempts;
}

/** True for libvirt/QEMU messages that mean "not enough memory or CPUs". */
export function isAllocationFailure(message: string): boolean {
  return /cannot allocate|Cannot set up guest memory|out of memory|insufficient|Not enough|too many vcpus|maximum.*vcpus/i.test(message);
}

/** Pin vCPUs to distinct host cores only when the host has room for it. */
export function cpuPinning(hostCpus: number, cpus: number, slot: number): number[] | undefined {
  if (hostCpus < 4 || cpus * 2 > hostCpus) return undefined;
  const start = (slot * cpus) % hostCpus;
  if (start + cpus > hostCpus) return undefined;
  return Array.from({ length: cpus }, (_, i) => start + i);
}
