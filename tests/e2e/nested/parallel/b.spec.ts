import { test } from '@playwright/test';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../../../../src/index.js';

// Both files boot the same demo at once, in two workers.
test('boot tiny in worker b', async () => {
  const out = process.env.PARALLEL_OUT!;
  await startDemo('parallel', { outputDir: out }, (demo) =>
    demo.vm('tiny', async (vm) => {
      const started = Date.now();
      writeFileSync(join(out, 'b.json'), JSON.stringify({ name: vm.name, port: vm.vncPort, started }));
      const partner = join(out, 'a.json');
      for (let i = 0; i < 600 && !existsSync(partner); i++) await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(out, 'b.done.json'), JSON.stringify({ sawPartner: existsSync(partner), ended: Date.now() }));
    }),
  );
});
