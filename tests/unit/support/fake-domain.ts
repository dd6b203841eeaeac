import type { Domain } from '../../../src/libvirt/index.js';

/** Just enough of a libvirt domain for a watchdog: one snapshot, always running, loadvm works. */
export function fakeDomain(): { domain: Domain; loadvms: string[] } {
  const loadvms: string[] = [];
  const domain = {
    snapshots: async () => [{ name: 'ready', createdAt: '2026-01-01T00:00:00Z', state: 'running' }],
    stateWithReason: async () => ({ state: 'running', reason: 'booted' }),
    hmp: async (command: string) => {
      if (command.startsWith('loadvm')) {
        loadvms.push(command);
        await new Promise((resolve) => setTimeout(resolve, 30));
        return '';
      }
      return 'VM status: running';
    },
  };
  return { domain: domain as unknown as Domain, loadvms };
}
