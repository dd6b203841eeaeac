/**
 * Snapshot names reach virsh as values of --name/--snapshotname, and only names that can't be
 * read as an option or split a monitor command get there: `--halt` once halted a domain.
 */
import { test, expect } from '@playwright/test';
import { UsageError } from '../../src/errors.js';
import { Domain, Virsh } from '../../src/libvirt/index.js';

/** A Virsh that writes its calls down instead of running them. */
class RecordingVirsh extends Virsh {
  readonly calls: string[][] = [];
  override async run(args: string[]): Promise<string> {
    this.calls.push(args);
    return '';
  }
}

const BAD: unknown[] = ['--halt', '-h', '--', '', ' ready', 'a b', 'a;reboot', 'ready\n', '.hidden', 'é', 'x'.repeat(65), undefined, 5];

for (const name of BAD) {
  test(`snapshot name ${JSON.stringify(name)}: UsageError before any virsh call`, async () => {
    const virsh = new RecordingVirsh({ uri: 'test:///default' });
    const domain = new Domain('demo-x', virsh, 'd616729b-6f4c-406b-8ae5-1ab13b20afb7');
    for (const call of [() => domain.snapshot(name as string), () => domain.revert(name as string), () => domain.deleteSnapshot(name as string)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('invalid snapshot name');
    }
    expect(virsh.calls).toEqual([]);
  });
}

test('a good name is passed as the value of --name / --snapshotname, the domain by its UUID', async () => {
  const virsh = new RecordingVirsh({ uri: 'test:///default' });
  const uuid = 'd616729b-6f4c-406b-8ae5-1ab13b20afb7';
  const domain = new Domain('demo-x', virsh, uuid);
  await domain.snapshot('ready-1.b_2');
  await domain.revert('ready-1.b_2');
  await domain.deleteSnapshot('ready-1.b_2');
  expect(virsh.calls.map((args) => args.slice(0, 5))).toEqual([
    ['snapshot-create-as', '--domain', uuid, '--name', 'ready-1.b_2'],
    ['snapshot-revert', '--domain', uuid, '--snapshotname', 'ready-1.b_2'],
    ['snapshot-delete', '--domain', uuid, '--snapshotname', 'ready-1.b_2'],
  ]);
  await domain.snapshot('x'.repeat(64)); // 64 characters: the longest allowed
  expect(virsh.calls).toHaveLength(4);
});
