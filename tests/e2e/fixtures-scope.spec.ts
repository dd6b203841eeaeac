import { test, expect } from '@playwright/test';
import { runFixtureSuite } from './nested/fixtures-support/run.js';
import { domains } from './support/host.js';

test.describe.configure({ timeout: 10 * 60_000 });

test('three tests of a file share one VM; two files in two workers boot two VMs at once', async ({}, testInfo) => {
  // Info lines on: the test counts the boots' 'vm ready' lines (the default level, warn, hides them).
  const { run, notes } = await runFixtureSuite(testInfo, 'fixtures-scope', [], { DEMOTOOL_LOG_LEVEL: 'info' });
  expect(run.exitCode, run.all).toBe(0);
  const all = notes();
  const three = all.filter((n) => n.file === 'three.spec.ts');
  const other = all.filter((n) => n.file === 'other.spec.ts');
  const [first] = three;
  const [otherFile] = other;
  expect(three.map((n) => n.title)).toEqual(['first', 'second', 'third']);
  // One VM for the three tests: same name, same libvirt domain id, booted once in one worker.
  expect(new Set(three.map((n) => `${n.vm}/${n.domid}/${n.pid}`)).size).toBe(1);
  expect(three.map((n) => n.boots)).toEqual([1, 1, 1]);
  // demoName defaults to the file name.
  expect(first?.demo).toBe('three');
  expect(first?.vm).toMatch(/^demo-three-[a-z0-9]{6}$/);
  // The other file: another worker, another VM, no name or VNC socket collision.
  expect(other).toHaveLength(1);
  expect(otherFile?.pid).not.toBe(first?.pid);
  expect(otherFile?.vm).toMatch(/^demo-other-[a-z0-9]{6}$/);
  expect(otherFile?.vnc).toHaveProperty('socket');
  expect((otherFile?.vnc as { socket?: string }).socket).not.toBe((first?.vnc as { socket?: string }).socket);
  // 'vm ready' is logged once per boot: two in all.
  expect(run.all!.match(/\bvm ready\b/g) ?? []).toHaveLength(2);
  expect((await domains()).filter((d) => /^demo-(three|other)-/.test(d))).toEqual([]);
});

test('a failed test does not poison the next; vmReset: snapshot reverts between tests', async ({}, testInfo) => {
  const { run, notes, report } = await runFixtureSuite(testInfo, 'fixtures-reset');
  expect(run.exitCode, run.all).toBe(1); // the deliberate failure
  const byTitle = Object.fromEntries(notes().map((n) => [n.title, n]));
  const before = byTitle['leaves state behind']!;
  const failing = byTitle['fails']!;
  const after = byTitle['runs on a fresh VM after the failure']!;
  expect(failing.domid).toBe(before.domid);
  // Playwright restarted the worker after the failure: a new process, a new VM without the old state.
  expect(after.pid).not.toBe(failing.pid);
  expect(after.poison).toBe('');
  expect(after.boots).toBe(1);

  const first = byTitle['changes the shell']!;
  const second = byTitle['starts from the snapshot taken after boot']!;
  expect(first.mark).toBe('set-by-first');
  expect(second.mark).toBe('');
  // Same VM, nothing booted, and the same QEMU: the reset is an in-place loadvm (a restart would change the domain id).
  expect(second.vm).toBe(first.vm);
  expect(second.domid).toBe(first.domid);
  expect(second.pid).toBe(first.pid);
  expect(second.boots).toBe(first.boots);

  // The failure's report: a screenshot and the serial log tail are attached.
  const failed = report().find((t) => t.title === 'fails')!.results[0]!;
  expect(failed.status).toBe('failed');
  const names = failed.attachments.map((a) => `${a.name} ${a.contentType}`);
  expect(names).toContain('screenshot image/png');
  expect(names).toContain('serial log (tail) text/plain');
  const passed = report().find((t) => t.title === 'leaves state behind')!.results[0]!;
  expect(passed.attachments.map((a) => a.name)).not.toContain('screenshot');
  expect((await domains()).filter((d) => /^demo-(poison|snapshot)-/.test(d))).toEqual([]);
});
