/**
 * The revert coordinator's states.
 *   monitoring → reverting → monitoring          a fault, one recovery, watching again
 *   monitoring → stopped → reverting             an operator stopped the VM, then started it
 *   monitoring → failed                           escalation gave up on the next fault: reported, never loops
 *   any        → closed                           the watchdog was closed
 */
export type CoordinatorState = 'monitoring' | 'reverting' | 'stopped' | 'failed' | 'closed';

const allowed: Record<CoordinatorState, readonly CoordinatorState[]> = {
  monitoring: ['reverting', 'stopped', 'failed', 'closed'],
  reverting: ['monitoring', 'failed', 'stopped', 'closed'],
  stopped: ['reverting', 'monitoring', 'closed'],
  failed: ['reverting', 'stopped', 'monitoring', 'closed'],
  closed: [],
};

export function canMove(from: CoordinatorState, to: CoordinatorState): boolean {
  return allowed[from].includes(to);
}
