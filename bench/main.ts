// npm run bench: side-by-side figures, printed, never asserted. The machine is noisy: quote ratios.
import { startDemo } from '../src/index.js';
import { benchBoot } from './boot.js';
import { benchScreenshot, benchTyping } from './screen-and-keys.js';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
await (await import('./references.js')).prepareBench(want); // reference tools present?

console.log(`# demotool bench (${new Date().toISOString()})`);
if (want('boot'))
  await benchBoot([
    { name: 'tiny', runs: Number(process.env.BENCH_RUNS ?? 5) },
    { name: 'debian-12-desktop', runs: Number(process.env.BENCH_RUNS ?? 3) },
  ]);
// A console (tiny), and a desktop's xterm, whose X server falls behind its kernel under TCG.
if (want('keys'))
  await startDemo('bench-keys', { outputDir: 'bench-results' }, async (demo) => {
    // The busy neighbour is a second tiny VM, booted (warm) beside each.
    const busyVm = () => demo.vm('tiny');
    await demo.vm('tiny', (vm) => benchTyping(vm, busyVm));
    await demo.vm('debian-12-desktop', (vm) => benchTyping(vm, busyVm));
  });
if (want('screenshot'))
  await startDemo('bench-screenshot', { outputDir: 'bench-results' }, (demo) =>
    demo.vm('debian-12-desktop', async (vm) => {
      await vm.waitForStableScreen();
      await benchScreenshot(vm);
    }),
  );
if (want('local-file')) await (await import('./local-file.js')).benchLocalFile();
if (want('record')) await (await import('./record.js')).benchRecord();
if (want('watchdog')) await (await import('./watchdog.js')).benchWatchdog();
if (want('exhibit-soak')) await (await import('./exhibit-soak.js')).benchExhibitSoak();
if (want('suites')) await (await import('./suites.js')).benchSuites(process.env.BENCH_NPM_TEST === '1' ? ['demo', 'test'] : ['demo']);
