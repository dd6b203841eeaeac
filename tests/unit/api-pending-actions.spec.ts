import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { MissingAwaitError, PendingActions } from '../../src/api/pending-actions.js';
import { UsageError } from '../../src/errors.js';

const site = { file: '/work/demos/a.spec.ts', line: 12, column: 5 };

test('settled actions are forgotten; check() passes', async () => {
  const actions = new PendingActions();
  await actions.track('type', site, Promise.resolve(1));
  await actions.track('click', site, Promise.reject(new Error('no'))).catch(() => undefined);
  expect(() => actions.check('when the test ended')).not.toThrow();
});

test('a running action fails check() with its title, its line and the word await', () => {
  const actions = new PendingActions();
  void actions.track("type 'ls'", site, new Promise(() => undefined));
  void actions.track('click 10,20', undefined, new Promise(() => undefined));
  let error: unknown;
  try {
    actions.check('when the test ended');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MissingAwaitError);
  expect(error).toBeInstanceOf(UsageError);
  const e = error as MissingAwaitError;
  expect(e.code).toBe('EMISSINGAWAIT');
  expect(e.message).toContain('2 VM actions were still running when the test ended: missing `await`?');
  expect(e.message).toContain("type 'ls' (/work/demos/a.spec.ts:12:5)");
  expect(e.message).toContain('click 10,20');
  // Reported once: the next check passes.
  expect(() => actions.check('when the VM was closed')).not.toThrow();
});

test('an action that fails after it was reported causes no unhandled rejection', async () => {
  const actions = new PendingActions();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    let fail!: (e: Error) => void;
    // Not awaited, as in a script that forgot to.
    void actions.track('type', site, new Promise<void>((_, reject) => (fail = reject)));
    expect(() => actions.check('when the test ended')).toThrow(MissingAwaitError);
    fail(new Error('VNC client closed'));
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a failing action nobody awaited and nobody reported is still an unhandled rejection', async () => {
  // In a child process: Node's own rule (an unhandled rejection ends the process) is what shows it.
  const script = `
    import { PendingActions } from ${JSON.stringify(new URL('../../src/api/pending-actions.ts', import.meta.url).pathname)};
    void new PendingActions().track('type', undefined, Promise.reject(new Error('typed into a closed VM')));
    setTimeout(() => console.log('still alive'), 200);
  `;
  const child = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false, all: true });
  expect(child.exitCode).not.toBe(0);
  expect(child.all).toContain('typed into a closed VM');
  expect(child.all).not.toContain('still alive');
});

test('a test cut short (timeout, interruption): what still runs was awaited, dropped without an error', async () => {
  const actions = new PendingActions();
  let fail!: (e: Error) => void;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    void actions.track('pause 60000 ms', site, new Promise<void>((_, reject) => (fail = reject)));
    expect(() => actions.check('when the test ended', { cutShort: true })).not.toThrow();
    fail(new Error('VNC client closed'));
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    expect(() => actions.check('when the VM was closed')).not.toThrow();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a signal cuts short the actions running then; one started after it and left running is still a missing await', async () => {
  // In a child process: a real SIGINT (with a handler of its own, so the process goes on).
  const src = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);
  const script = `
    import { PendingActions } from ${src('../../src/api/pending-actions.ts')};
    import { onCleanup } from ${src('../../src/process-exit.ts')};
    process.on('SIGINT', () => undefined);
    const actions = new PendingActions();
    const report = (when) => { try { actions.check(when); return 'quiet'; } catch (e) { return e.code + ': ' + e.message.split('\\n')[1].trim(); } };
    void actions.track('pause', undefined, new Promise(() => undefined));
    onCleanup(async () => undefined);
    process.kill(process.pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    const first = report('when the test ended');
    void actions.track('type', undefined, new Promise(() => undefined));
    console.log(JSON.stringify({ first, second: report('when the test ended') }));
  `;
  const child = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    reject: false,
    all: true,
    env: { DEMOTOOL_LOG_LEVEL: 'error' },
  });
  expect(child.exitCode, child.all).toBe(0);
  const { first, second } = JSON.parse(child.stdout.trim().split('\n').pop()!);
  expect(first).toBe('quiet');
  expect(second).toBe('EMISSINGAWAIT: type');
});
