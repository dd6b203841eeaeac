import { DemotoolError } from '../errors.js';

/** A virsh call failed. Carries virsh's own message and the command that was run. */
export class VirshError extends DemotoolError {
  readonly command: string;
  readonly stderr: string;

  constructor(command: string, stderr: string, hint?: string) {
    super('EVIRSH', `virsh ${command} failed: ${stderr.trim() || 'no message'}`, { hint: hint ?? hintFor(stderr) });
    this.command = command;
    this.stderr = stderr;
  }
}

/** The VM did not get as far as it should have (boot, start, resources). */
export class VmError extends DemotoolError {}

function hintFor(stderr: string): string | undefined {
  if (/failed to connect|No such file or directory.*sock|Connection refused/i.test(stderr))
    return 'libvirtd is not running: run `npx demotool setup --yes` (or `virtlogd -d; libvirtd -d` as root)';
  if (/virtlogd/i.test(stderr)) return 'virtlogd is not running: run `virtlogd -d`';
  if (/domain .* already exists|already defined/i.test(stderr))
    return "a VM of that name exists and is not this run's: demotool never removes it (left-over VMs of dead runs are swept at the next start, or by `demotool cleanup`)";
  if (/cannot allocate|Cannot set up guest memory|out of memory/i.test(stderr)) return 'not enough free memory: lower vmResources.memoryMiB';
  if (/permission denied/i.test(stderr)) return 'set user = "root" and group = "root" in /etc/libvirt/qemu.conf (`npx demotool setup --yes` does it)';
  return undefined;
}
