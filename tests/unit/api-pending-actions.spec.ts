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
