import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../../../../src/index.js';

/**
 * Boots `tiny` for the demo 'parallel' (the same demo in both workers), records its name and
 * VNC endpoint, and holds the VM until the partner worker's VM is up too.
 */
export async function bootAndMeetPartner(self: string, partner: string): Promise<void> {
  const out = process.env.PARALLEL_OUT!;
  await startDemo('parallel', { outputDir: out }, (demo) =>
    demo.vm('tiny', async (vm) => {
      writeFileSync(join(out, `${self}.json`), JSON.stringify({ name: vm.name, vnc: vm.vncEndpoint, started: Date.now() }));
      const other = join(out, `${partner}.json`);
      for (let i = 0; i < 600 && !existsSync(other); i++) await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(out, `${self}.done.json`), JSON.stringify({ sawPartner: existsSync(other), ended: Date.now() }));
    }),
  );
}
