// A desktop demo in `debian-12-desktop` (Xorg + openbox + xterm), all with the mouse:
// open openbox's root menu, start a second xterm from it, type into it, drag it across the screen.
// Each step is a section: demo-videos/desktop/{root-menu,second-xterm,type,drag}.mp4 → desktop.mp4.
import { test, expect } from 'demotool/test';
import type { Vm } from 'demotool';

test.use({ vmImage: 'debian-12-desktop' });

/** The menu entry, cut from a screenshot of the menu (see demos/needles/README.md). */
const TERMINAL_ENTRY = new URL('./needles/terminal-emulator.png', import.meta.url).pathname;

interface Geometry {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function expectedIn(line: string, re: RegExp): never {
  throw new Error(`xwininfo's output has no ${re}: ${line}`);
}

/**
 * Visible xterm windows and their client areas on screen, asked of the X server in the guest
 * (xwininfo over the guest agent; xdotool's geometry counts openbox's frame offset twice).
 */
async function xterms(vm: Vm): Promise<Geometry[]> {
  const r = await vm.exec('for w in $(xdotool search --onlyvisible --class xterm); do echo "id=$w $(xwininfo -id $w | tr "\\n" " ")"; done');
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const field = (re: RegExp) => line.match(re)?.[1] ?? expectedIn(line, re);
      const v = (label: string) => Number(field(new RegExp(`${label}:?\\s+(-?\\d+)`)));
      return { id: field(/id=(\d+)/), x: v('Absolute upper-left X'), y: v('Absolute upper-left Y'), width: v('Width'), height: v('Height') };
    });
}

test('openbox with the mouse: root menu, a second xterm, typing, dragging it', async ({ vm }) => {
  // Off camera: the session's first xterm is up.
  await vm.exec('xdotool search --sync --onlyvisible --class xterm');
  await vm.mouse.move(640, 600);
  const first = await xterms(vm);
  expect(first).toHaveLength(1);

  const menuAt = { x: 820, y: 480 };
  const menu = { x: menuAt.x, y: menuAt.y, width: 140, height: 40 };
  await vm.record('root-menu', async () => {
    await vm.mouse.move(menuAt.x, menuAt.y, { duration: 800 });
    await vm.mouse.click(menuAt.x, menuAt.y, { button: 'right' });
    await expect(vm).toMatchScreen(TERMINAL_ENTRY, { region: menu });
    await vm.pause(800);
  });

  await vm.record('second-xterm', async () => {
    await vm.clickImage(TERMINAL_ENTRY, { region: menu });
    await expect.poll(async () => (await xterms(vm)).length, { timeout: 30_000 }).toBe(2);
    await vm.waitForStableScreen({ duration: 500 });
    await vm.pause(800);
  });

  const second = (await xterms(vm)).find((w) => w.id !== first[0]?.id)!;
  await vm.record('type', async () => {
    await vm.mouse.click(second.x + second.width / 2, second.y + second.height / 2);
    await vm.keyboard.type('echo "typed into the second xterm"\n');
    await vm.keyboard.type('uname -o\n');
    await expect(vm).toShowText(/GNU\/Linux/, { region: second });
    await vm.pause(1000);
  });

  await vm.record('drag', async () => {
    // Openbox's title bar is the 20 px above the client area; grab it left of the title text.
    const grab = { x: second.x + 60, y: second.y - 10 };
    // Up and to the right, beside the first xterm.
    const drop = { x: grab.x + 300, y: grab.y - 350 };
    await vm.mouse.drag(grab, drop, { steps: 40 });
    await vm.waitForStableScreen({ duration: 500 });
    const moved = (await xterms(vm)).find((w) => w.id === second.id)!;
    expect(moved.x - second.x).toBeGreaterThan(250);
    expect(moved.y - second.y).toBeLessThan(-300);
    await vm.pause(1000);
  });
});
