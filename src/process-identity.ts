/**
 * Which process a pid names, from /proc: a pid alone is reused, pid + start time names one
 * process for good. Shared by every layer that records an owner (VMs, recording outputs).
 */
import { readFileSync, readlinkSync } from 'node:fs';

/**
 * The fields of /proc/PID/stat from field 3 (state) on, or undefined when there is no such
 * process (or no /proc). Field 2 (comm) is in parentheses and may hold spaces and parentheses
 * itself: the count starts after the last ')'.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** /proc/PID/stat field 22 (starttime), or undefined when there is no such process (or no /proc). */
export function processStartTime(pid: number): string | undefined {
  const start = statFields(pid)?.[22 - 3];
  return start && /^\d+$/.test(start) ? start : undefined;
}

/** True for a zombie (exited, not yet reaped): /proc/PID/stat field 3 is 'Z'. */
export function isZombie(pid: number): boolean {
  return statFields(pid)?.[0] === 'Z';
}

/** True while the process exists and has not exited (a zombie has). */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

/** This process's PID namespace ('pid:[4026531836]'), or undefined without /proc. */
export function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}
