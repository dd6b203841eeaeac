/** What one signal does to a process with cleanups registered: in a child, with a real signal. */
import { test, expect } from '@playwright/test';
import { execa } from 'execa';

const module = JSON.stringify(new URL('../../src/process-exit.ts', import.meta.url).pathname);

/** Runs `body` in a child after registering a cleanup that prints 'cleaned', then sends itself SIGINT. */
function runChild(body: string) {
  const script = `
    import { execa } from 'execa';
    import { onCleanup } from ${module};
    ${body}
    onCleanup(async () => { await new Promise((r) => setTimeout(r, 200)); console.log('cleaned'); });
    process.kill(process.pid, 'SIGINT');
    setTimeout(() => console.log('went on'), 2000);
  `;
  return runScript(script);
}

/** Runs an ES module script in a child Node with tsx. */
function runScript(script: string) {
  return execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false, all: true, timeout: 20_000 });
}

test('nobody else handles SIGINT: the cleanups run, then the process ends by SIGINT (never goes on)', async () => {
  const r = await runChild('');
  expect(r.all).toContain('cleaned');
  expect(r.all).not.toContain('went on');
  expect(r.signal).toBe('SIGINT');
});

test("signal-exit's listener (execa's, while a child runs) is not a handler: the process still ends by SIGINT", async () => {
  // execa's cleanup option loads signal-exit, which listens to SIGINT as long as the child runs.
  const r = await runChild(`const child = execa('sleep', ['30'], { reject: false }); await new Promise((r) => setTimeout(r, 100));`);
  expect(r.all).toContain('cleaned');
  expect(r.all).not.toContain('went on');
  expect(r.signal).toBe('SIGINT');
});

test('a handler of the user: the cleanups run and the process goes on, as the user asked', async () => {
  const r = await runChild(`process.on('SIGINT', () => console.log('user handler'));`);
  expect(r.all).toContain('cleaned');
  expect(r.all).toContain('user handler');
  expect(r.all).toContain('went on');
  expect(r.exitCode).toBe(0);
});

test('a script left waiting on a promise that never settles still ends by SIGINT, not with a status of its own', async () => {
  // What kept its event loop alive (a VM's VNC socket, here an interval) goes with the cleanups: only the signal's delivery is left.
  const script = `
    import 'proper-lockfile'; // as a saved boot's lock does: signal-exit v3 listens from then on
    import { onCleanup } from ${module};
    const vnc = setInterval(() => undefined, 1000);
    onCleanup(async () => { clearInterval(vnc); console.log('cleaned'); });
    setTimeout(() => process.kill(process.pid, 'SIGINT'), 100);
    await new Promise(() => undefined);
  `;
  const r = await runScript(script);
  expect(r.all).toContain('cleaned');
  expect([130, 'SIGINT'], r.all).toContain(r.signal ?? r.exitCode);
});
