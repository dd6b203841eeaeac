// The watchdog keeps an installation running: the app (the xterm, standing in for an artwork)
// is killed, the guest's process watchdog asks the host for a revert, and the VM is back at
// its 'ready' snapshot within seconds, app and all. One section: demo-videos/watchdog/recovery.mp4.
import { test, expect } from 'demotool/test';

test.use({
  vmImage: 'debian-12-desktop',
  vmResources: { memoryMiB: 2048 },
  vmOptions: { guestMonitors: { transport: 'http', processes: ['xterm'] } },
  watchdogOptions: { heartbeatTimeout: 10_000, grace: 5_000 },
});

test('a killed app is brought back by the watchdog', async ({ vm, watchdog }) => {
  // Off camera: the monitors beat, and the 'ready' snapshot (xterm up, empty) is taken.
  await expect.poll(() => watchdog.state, { timeout: 60_000 }).toBe('healthy');
  await vm.mouse.move(640, 600);
  const ready = await vm.screenshot();

  await vm.record('recovery', async () => {
    await vm.mouse.move(300, 200, { duration: 600 });
    await vm.mouse.click(300, 200);
    await vm.keyboard.type('echo the artwork is running\n');
    await vm.pause(1_000);
    // The app dies (as an old artwork might): its window goes away.
    await vm.exec('(sleep 0.5; pkill -x xterm) >/dev/null 2>&1 &', { user: 'root' });
    await expect(watchdog).toHaveRecovered({ reason: 'guest-request', within: 40_000 });
    // Back at the snapshot: the xterm is there again, as it was when the snapshot was taken.
    await vm.waitForScreen(ready, { timeout: 20_000 });
    await vm.pause(2_000);
  });
  expect(watchdog.reverts[0]!.detail).toContain('process xterm is gone');
});
