import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Domain } from './domain.js';
import { parseOwner } from './domain-xml.js';
import { Virsh } from './virsh.js';
import { createLogger } from '../log.js';

const log = createLogger('cleanup');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * VMs left behind by a run that was killed (SIGKILL, power loss) are found by their owner
 * record and removed, with their overlays. VMs of live processes are left alone.
 */
export async function removeStaleVms(virsh: Virsh = new Virsh(), prefix = 'demo-'): Promise<string[]> {
  const removed: string[] = [];
  const names = (await virsh.listDomains()).filter((n) => n.startsWith(prefix));
  for (const name of names) {
    const domain = new Domain(name, virsh);
    const owner = parseOwner(await domain.xml().catch(() => ''));
    if (!owner || owner.hostname !== hostname() || alive(owner.pid)) continue;
    await domain.remove();
    if (owner.overlay) await rm(owner.overlay, { force: true });
    await rm(owner.overlay?.replace(/\.qcow2$/, '.serial.log') ?? '', { force: true }).catch(() => undefined);
    log.warn('removed a VM left by a killed run', { name, ownerPid: owner.pid });
    removed.push(name);
  }
  return removed;
}
