import { test, expect } from '@playwright/test';
import { cpuPinning, isAllocationFailure, planResources, resourceAttempts } from '../../src/libvirt/resources.js';

const GiB = 2 ** 30;

test.describe('planResources: 50% of the host, clamped', () => {
  test('half the cores and half the RAM on a mid-size host', () => {
    expect(planResources({ cpus: 8, memoryBytes: 16 * GiB })).toEqual({ cpus: 4, memoryMiB: 8192 });
  });
  test('at least 1 CPU and 4 GiB on a small host', () => {
    expect(planResources({ cpus: 1, memoryBytes: 2 * GiB })).toEqual({ cpus: 1, memoryMiB: 4096 });
  });
  test('at most 8 CPUs and 32 GiB on a big host', () => {
    expect(planResources({ cpus: 64, memoryBytes: 256 * GiB })).toEqual({ cpus: 8, memoryMiB: 32768 });
  });
  test('this kind of CI machine: 2 cores, 24 GiB → 1 CPU, 12 GiB', () => {
    expect(planResources({ cpus: 2, memoryBytes: 24 * GiB })).toEqual({ cpus: 1, memoryMiB: 12288 });
  });
  test('a caller can override either', () => {
    expect(planResources({ cpus: 8, memoryBytes: 16 * GiB }, { cpus: 2 })).toEqual({ cpus: 2, memoryMiB: 8192 });
    expect(planResources({ cpus: 8, memoryBytes: 16 * GiB }, { memoryMiB: 1024 })).toEqual({ cpus: 4, memoryMiB: 1024 });
  });
});

test.describe('resourceAttempts: 25% less, at most 3 retries', () => {
  test('four attempts, each 75% of the one before', () => {
    const a = resourceAttempts({ cpus: 8, memoryMiB: 8192 });
    expect(a.map((r) => r.memoryMiB)).toEqual([8192, 6144, 4608, 3456]);
    expect(a.map((r) => r.cpus)).toEqual([8, 6, 4, 3]);
  });
  test('never below one CPU or the image floor', () => {
    const a = resourceAttempts({ cpus: 1, memoryMiB: 1024 }, 800);
    expect(a.every((r) => r.cpus === 1)).toBe(true);
    expect(a.map((r) => r.memoryMiB)).toEqual([1024, 800, 800, 800]);
  });
});

test('allocation failures are recognised, other errors are not', () => {
  expect(isAllocationFailure("cannot set up guest memory 'pc.ram': Cannot allocate memory")).toBe(true);
  expect(isAllocationFailure('Domain not found: no domain with matching name')).toBe(false);
});

test('CPU pinning only with room to spare, on distinct cores per slot', () => {
  expect(cpuPinning(2, 1, 0)).toBeUndefined();
  expect(cpuPinning(8, 2, 0)).toEqual([0, 1]);
  expect(cpuPinning(8, 2, 1)).toEqual([2, 3]);
  expect(cpuPinning(8, 4, 1)).toEqual([4, 5, 6, 7]);
  expect(cpuPinning(8, 6, 0)).toBeUndefined();
});
