import { checkSnapshotName, type Domain, type SnapshotInfo } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { WatchdogError } from './errors.js';

const STAGED_SUFFIX = '.staged';

/**
 * The VM's snapshots, as the watchdog and its API see them. Internal snapshots can't be
 * renamed, so replacing `ready` is staged: save `ready.staged`, delete `ready`, save `ready`
 * again, delete the staged copy. At every moment one of them exists, and `target()` names it.
 */
export class SnapshotStore {
  private staging = new Set<string>();

  constructor(
    private readonly domain: Domain,
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  list(): Promise<SnapshotInfo[]> {
    return this.domain.snapshots();
  }

  async exists(name: string): Promise<boolean> {
    return (await this.list()).some((s) => s.name === checkSnapshotName(name));
  }

  /** The snapshot a revert to `name` should load now (the staged copy while `name` is being replaced). */
  target(name: string): string {
    return this.staging.has(name) ? `${name}${STAGED_SUFFIX}` : name;
  }

  /** Create `name`, replacing an existing one without a moment where none is usable. */
  async create(name: string, description: string): Promise<void> {
    checkSnapshotName(name);
    if (name.endsWith(STAGED_SUFFIX)) throw new WatchdogError('ESNAPSHOTNAME', `snapshot names ending in ${STAGED_SUFFIX} are reserved`, 'choose another name');
    if (name.length + STAGED_SUFFIX.length > 64)
      throw new WatchdogError(
        'ESNAPSHOTNAME',
        `snapshot name ${JSON.stringify(name)} is too long to be replaced safely`,
        `use at most ${64 - STAGED_SUFFIX.length} characters`,
      );
    const names = new Set((await this.list()).map((s) => s.name));
    if (!names.has(name)) {
      await this.domain.snapshot(name, description, this.timeoutMs);
      this.log.info('snapshot created', { name });
      return;
    }
    const staged = `${name}${STAGED_SUFFIX}`;
    if (names.has(staged)) await this.domain.deleteSnapshot(staged, this.timeoutMs);
    await this.domain.snapshot(staged, description, this.timeoutMs);
    this.staging.add(name);
    try {
      await this.domain.deleteSnapshot(name, this.timeoutMs);
      await this.domain.snapshot(name, description, this.timeoutMs);
    } finally {
      this.staging.delete(name);
    }
    await this.domain
      .deleteSnapshot(staged, this.timeoutMs)
      .catch((e) => this.log.warn('staged snapshot left behind', { name: staged, error: (e as Error).message }));
    this.log.info('snapshot replaced', { name });
  }

  async delete(name: string): Promise<void> {
    if (!(await this.exists(name))) throw new WatchdogError('ENOSNAPSHOT', `no snapshot named ${JSON.stringify(name)}`, 'list them with GET /api/v1/snapshots');
    await this.domain.deleteSnapshot(name, this.timeoutMs);
  }
}
