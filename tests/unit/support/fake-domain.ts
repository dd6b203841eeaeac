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

/** A domain that answers `states` in turn (the last one from then on), counting the questions. */
export function scriptedDomain(...states: [string, string][]): { domain: Domain; asked: { count: number } } {
  const asked = { count: 0 };
  const domain = {
    stateWithReason: async () => {
      const [state, reason] = states[Math.min(asked.count++, states.length - 1)]!;
      return { state, reason };
    },
  };
  return { domain: domain as unknown as Domain, asked };
}
