import { UsageError } from '../errors.js';

/** demotool's guest monitors (guest/linux/demotool-guest), started at boot by the built-in images. */
export interface GuestMonitors {
  /** How the guest reaches the watchdog: 'http' (closed network, 192.168.122.1:8000) or 'serial' (its ttyS1). */
  transport: 'http' | 'serial';
  /** Ask for a revert when one of these processes is gone. */
  processes?: string[];
  /** Report keyboard and pointer activity as idle resets. */
  idle?: boolean;
  /** Seconds between heartbeats (default 1). */
  interval?: number;
}

const PROCESS = /^[A-Za-z0-9._+-]{1,64}$/;

/** The kernel arguments that switch the monitors on, checked before anything boots. */
export function guestMonitorArgs(monitors: GuestMonitors | undefined, network: 'closed' | 'open', guestApi?: { address: string; port: number }): string[] {
  if (monitors === undefined) return [];
  if (typeof monitors !== 'object' || monitors === null) throw new UsageError('guestMonitors must be an object like { transport: "serial" }');
  const { transport, processes = [], idle = false, interval = 1 } = monitors;
  if (transport !== 'http' && transport !== 'serial')
    throw new UsageError(`guestMonitors.transport must be 'http' or 'serial', not ${JSON.stringify(transport)}`);
  if (transport === 'http' && network !== 'closed')
    throw new UsageError(
      "guestMonitors over 'http' need network: 'closed' (the watchdog's guest API lives on the closed network)",
      "use transport: 'serial' on an open network",
    );
  if (!Array.isArray(processes) || !processes.every((p) => typeof p === 'string' && PROCESS.test(p)))
    throw new UsageError(`guestMonitors.processes must be process names (letters, digits, . _ + -), not ${JSON.stringify(processes)}`);
  if (typeof idle !== 'boolean') throw new UsageError('guestMonitors.idle must be true or false');
  if (!Number.isInteger(interval) || interval < 1 || interval > 60)
    throw new UsageError(`guestMonitors.interval must be whole seconds from 1 to 60, not ${JSON.stringify(interval)}`);
  const args = [`demotool.watchdog=${transport}`];
  if (transport === 'http' && guestApi) args.push(`demotool.url=http://${guestApi.address}:${guestApi.port}`);
  if (processes.length) args.push(`demotool.processes=${processes.join(',')}`);
  if (idle) args.push('demotool.idle=1');
  if (interval !== 1) args.push(`demotool.interval=${interval}`);
  return args;
}
