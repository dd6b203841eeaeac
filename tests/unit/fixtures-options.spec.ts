import { test, expect } from '@playwright/test';
import { demoNameFromFile, keepVideo, shouldAttachScreenshot, shouldRecordVideo, vmSettings } from '../../fixtures/options.js';
import { sanitize } from '../../fixtures/matchers/snapshot-paths.js';
import { openViewer, viewerRequested } from '../../src/api/viewer.js';

test('demoName defaults to the spec file name without .spec.ts', () => {
  expect(demoNameFromFile('/x/demos/terminal.spec.ts')).toBe('terminal');
  expect(demoNameFromFile('/x/a/b/my-demo.test.mjs')).toBe('my-demo');
  expect(demoNameFromFile('plain.ts')).toBe('plain');
  // Two files with one base name in two folders: two demos.
  expect(demoNameFromFile('/x/demos/terminal.spec.ts', '/x/demos')).toBe('terminal');
  expect(demoNameFromFile('/x/demos/a/shell.spec.ts', '/x/demos')).toBe('a-shell');
  expect(demoNameFromFile('/x/demos/b/shell.spec.ts', '/x/demos')).toBe('b-shell');
});

test("video modes record and keep as Playwright's do", () => {
  const table: [string, number, boolean, boolean, boolean][] = [
    // mode, retry, failed → record, keep
    ['off', 0, true, false, false],
    ['on', 0, false, true, true],
    ['retain-on-failure', 0, false, true, false],
    ['retain-on-failure', 0, true, true, true],
    ['on-first-retry', 0, true, false, true],
    ['on-first-retry', 1, false, true, true],
    ['on-all-retries', 2, false, true, true],
    ['retain-on-first-failure', 1, true, false, true],
    ['retain-on-failure-and-retries', 1, false, true, true],
  ];
  for (const [mode, retry, failed, record, keep] of table) {
    expect(shouldRecordVideo(mode, retry), `${mode} retry ${retry} records`).toBe(record);
    if (record) expect(keepVideo(mode, failed, retry), `${mode} failed=${failed} keeps`).toBe(keep);
  }
  expect(shouldRecordVideo({ mode: 'on' }, 0)).toBe(true);
  expect(shouldRecordVideo(undefined, 0)).toBe(false);
});

test('screenshot modes', () => {
  expect(shouldAttachScreenshot('off', true, 0)).toBe(false);
  expect(shouldAttachScreenshot('on', false, 0)).toBe(true);
  expect(shouldAttachScreenshot('only-on-failure', false, 0)).toBe(false);
  expect(shouldAttachScreenshot('only-on-failure', true, 0)).toBe(true);
  expect(shouldAttachScreenshot('on-first-failure', true, 1)).toBe(false);
});

test("VM settings gather the worker's VM options", () => {
  const s = vmSettings({ vmImage: 'tiny', vmResources: { cpus: 1 }, bootTimeout: 5000, vmOptions: { network: 'open' } });
  expect(s).toEqual({ image: 'tiny', options: { network: 'open', resources: { cpus: 1 }, bootTimeout: 5000 } });
});

test("snapshot names are sanitized like Playwright's", () => {
  expect(sanitize('opens a terminal 1')).toBe('opens-a-terminal-1');
  expect(sanitize('a/b:c')).toBe('a-b-c');
});

test('DEMOTOOL_VIEW parsing', () => {
  expect(viewerRequested({ DEMOTOOL_VIEW: '1' })).toBe(true);
  expect(viewerRequested({ DEMOTOOL_VIEW: '0' })).toBe(false);
  expect(viewerRequested({})).toBe(false);
});

test('DEMOTOOL_VIEW without virt-viewer or a display warns and goes on', async () => {
  const display = process.env.DISPLAY;
  try {
    process.env.DISPLAY = ':99';
    const missing = await openViewer('demo-x', { command: '/nonexistent/virt-viewer', uri: 'qemu:///session' });
    expect(missing.pid).toBeUndefined();
    missing.close();
    const started = await openViewer('demo-x', { command: 'true' });
    expect(started.pid).toBeGreaterThan(0);
    started.close();
    delete process.env.DISPLAY;
    const headless = await openViewer('demo-x', { command: 'true' });
    expect(headless.pid).toBeUndefined();
  } finally {
    if (display === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = display;
  }
});
