// A terminal demo in the `tiny` image: commands typed at human speed (100 ms a key), each with
// its output, each its own section: demo-videos/terminal/{uname,proc,loop}.mp4, joined into terminal.mp4.
import { test, expect } from 'demotool/test';

test.use({ vmImage: 'tiny' });

test('a terminal session: uname, /proc, a shell loop @smoke', async ({ vm }) => {
  /** Set up off camera: a clean screen for the next section. */
  const clear = () => vm.keyboard.type('clear\n', { delay: 0 });
  // A text console has no mouse pointer: don't draw one into the video.
  const video = { cursor: false };

  await clear();
  await vm.record(
    'uname',
    async () => {
      await vm.keyboard.type('uname -sr\n');
      await expect(vm).toShowText(/Linux \d+\.\d+/);
      await vm.pause(1000);
    },
    video,
  );

  await clear();
  await vm.record(
    'proc',
    async () => {
      await vm.keyboard.type("ls /proc | grep -v '^[0-9]' | head -4\n");
      await expect(vm).toShowText(/buddyinfo/);
      await vm.pause(1000);
    },
    video,
  );

  await clear();
  await vm.record(
    'loop',
    async () => {
      await vm.keyboard.type('for i in 1 2 3; do echo "round $i"; sleep 0.5; done\n');
      await expect(vm).toShowText(/round 3/);
      await vm.pause(1000);
    },
    video,
  );
});
