import { isIPv4 } from 'node:net';
import { UsageError } from '../errors.js';
import { resolveTimeout } from '../timeouts.js';
import { guestMonitorArgs } from './guest-monitors.js';
import { guestNetworkAvailable } from '../libvirt/index.js';
import type { VmOptions } from './session.js';

const KNOWN = ['resources', 'bootTimeout', 'ready', 'network', 'guestApi', 'guestMonitors', 'video', 'accel'];
const STRATEGIES = ['auto', 'serial', 'settle', 'fixed'];

function oneOf(name: string, value: unknown, allowed: string[]): void {
  if (value !== undefined && !allowed.includes(value as string))
    throw new UsageError(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, not ${JSON.stringify(value)}`);
}

function wholeNumber(name: string, value: unknown, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < min || (value as number) > max))
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
}

function plainObject(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${name} must be an object, not ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/**
 * Every VM option checked before anything happens (no sweep, overlay or define): a typo or a
 * wrong type is a UsageError, never a silent default. The network fails closed: only 'open' opens it.
 * Returns the kernel arguments the guest monitors need.
 */
export function checkVmOptions(options: VmOptions): { kernelArgs: string[]; bootTimeout?: number } {
  const o = plainObject('VM options', options) ?? {};
  for (const key of Object.keys(o))
    if (!KNOWN.includes(key)) throw new UsageError(`unknown VM option ${JSON.stringify(key)}`, `known options: ${KNOWN.join(', ')}`);
  oneOf('network', o.network, ['closed', 'open']);
  oneOf('video', o.video, ['virtio', 'vga']);
  oneOf('accel', o.accel, ['kvm', 'tcg']);
  const resources = plainObject('resources', o.resources);
  if (resources) {
    for (const key of Object.keys(resources))
      if (key !== 'cpus' && key !== 'memoryMiB') throw new UsageError(`unknown resources option ${JSON.stringify(key)}`, 'resources take cpus and memoryMiB');
    wholeNumber('resources.cpus', resources.cpus, 1, 64);
    wholeNumber('resources.memoryMiB', resources.memoryMiB, 128, 1024 * 1024);
  }
  const ready = plainObject('ready', o.ready);
  if (ready) {
    oneOf('ready.strategy', ready.strategy, STRATEGIES);
    wholeNumber('ready.settleMs', ready.settleMs, 0, 600_000);
    wholeNumber('ready.fixedMs', ready.fixedMs, 0, 600_000);
  }
  const api = plainObject('guestApi', o.guestApi);
  if (api) {
    if (typeof api.address !== 'string' || !isIPv4(api.address))
      throw new UsageError(`guestApi.address must be an IPv4 address, not ${JSON.stringify(api.address)}`);
    wholeNumber('guestApi.port', api.port, 1, 65535);
    if (api.port === undefined) throw new UsageError('guestApi needs a port');
  }
  const bootTimeout = resolveTimeout('bootTimeout', o.bootTimeout, NaN);
  if (options.guestMonitors?.transport === 'http' && (options.network ?? 'closed') === 'closed' && !guestNetworkAvailable())
    throw new UsageError(
      "guestMonitors over 'http' need the closed guest network, and passt or socat is missing",
      "install passt and socat (`npm run setup -- --yes`), or use transport: 'serial'",
    );
  return {
    kernelArgs: guestMonitorArgs(options.guestMonitors, options.network ?? 'closed', options.guestApi),
    bootTimeout: Number.isNaN(bootTimeout) ? undefined : bootTimeout,
  };
}
