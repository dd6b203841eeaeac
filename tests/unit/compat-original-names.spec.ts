import { test, expect } from '@playwright/test';
import { withOriginalNames, type CompatVm } from '../../src/compat/index.js';

/** A Vm stand-in that records what each verb was turned into. */
function fakeVm(position = { x: 100, y: 100 }) {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args]);
    };
  const vm = {
    keyboard: { type: record('type'), press: record('press'), down: record('down'), up: record('up'), combo: record('combo') },
    mouse: { position, move: record('move'), click: record('click'), drag: record('drag') },
    pause: record('pause'),
    screenshot: async (...args: unknown[]) => (calls.push(['screenshot', ...args]), Buffer.from('png')),
    waitForScreen: async (...args: unknown[]) => (calls.push(['waitForScreen', ...args]), { x: 0, y: 0, width: 1, height: 1, similarity: 1 }),
  } as unknown as CompatVm;
  return { vm, calls };
}

test('each original verb calls the Vm verb it stands for', async () => {
  const { vm, calls } = fakeVm();
  const v = withOriginalNames(vm);
  await v.type('hi');
  await v.keyPress('Enter');
  await v.keyDown('Shift');
  await v.keyUp('Shift');
  await v.keyCombo('Control', 'c');
  await v.pause(5);
  await v.move(3, 4);
  await v.captureScreen();
  await v.captureScreen('/tmp/x.png');
  expect(calls).toEqual([
    ['type', 'hi', undefined],
    ['press', 'Enter'],
    ['down', 'Shift'],
    ['up', 'Shift'],
    ['combo', 'Control', 'c'],
    ['pause', 5],
    ['move', 3, 4],
    ['screenshot', undefined],
    ['screenshot', { path: '/tmp/x.png' }],
  ]);
});

test('click and mousePress use the pointer position for what is left out', async () => {
  const { vm, calls } = fakeVm({ x: 7, y: 9 });
  const v = withOriginalNames(vm);
  await v.click();
  await v.click(20);
  await v.click(20, 30, { button: 'right' });
  await v.mousePress('middle');
  await v.mousePress();
  expect(calls).toEqual([
    ['click', 7, 9, undefined],
    ['click', 20, 9, undefined],
    ['click', 20, 30, { button: 'right' }],
    ['click', 7, 9, { button: 'middle' }],
    ['click', 7, 9, { button: 'left' }],
  ]);
});

test("mouseDrag's step counts pixels; it becomes mouse.drag's count of moves", async () => {
  const { vm, calls } = fakeVm({ x: 0, y: 0 });
  const v = withOriginalNames(vm);
  await v.mouseDrag(300, 400); // 500 px at 10 px a move
  await v.mouseDrag(300, 400, 100);
  await v.mouseDrag(0, 0, 5); // no distance: still one move
  await v.mouseDrag(15, 0, 0); // a step under one pixel counts as one
  expect(calls).toEqual([
    ['drag', { x: 0, y: 0 }, { x: 300, y: 400 }, { steps: 50 }],
    ['drag', { x: 0, y: 0 }, { x: 300, y: 400 }, { steps: 5 }],
    ['drag', { x: 0, y: 0 }, { x: 0, y: 0 }, { steps: 1 }],
    ['drag', { x: 0, y: 0 }, { x: 15, y: 0 }, { steps: 15 }],
  ]);
});

test('expectScreen(image, maxrms) is waitForScreen at threshold 1 − maxrms', async () => {
  const { vm, calls } = fakeVm();
  const v = withOriginalNames(vm);
  await v.expectScreen('a.png');
  await v.expectScreen('b.png', 0.2, { timeout: 50, margin: 3 });
  expect(calls).toEqual([
    ['waitForScreen', 'a.png', { threshold: 0.95 }],
    ['waitForScreen', 'b.png', { timeout: 50, margin: 3, threshold: 0.8 }],
  ]);
});

test("gnomeLockUnlock sends GNOME's key sequence with the password", async () => {
  const { vm, calls } = fakeVm();
  await withOriginalNames(vm).gnomeLockUnlock('secret');
  expect(calls).toEqual([
    ['press', 'Super+L'],
    ['pause', 1000],
    ['press', 'Space'],
    ['pause', 1000],
    ['press', 'Backspace'],
    ['press', 'Backspace'],
    ['type', 'secret', undefined],
    ['press', 'Enter'],
  ]);
});
