import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { startDemo, BootError } from '../../src/index.js';
import { domains, runFiles, tcpGreeting, virsh } from './support/host.js';

test.describe.configure({ timeout: 5 * 60_000 });

test('tiny boots cold through libvirt: VNC answers, the serial log shows the shell, cleanup is complete', async ({}, testInfo) => {
  let name = '';
  let socket = '';
  await startDemo('lifecycle-tiny', { outputDir: testInfo.outputPath('videos') }, async (demo) => {
    await demo.vm('tiny', { start: 'cold' }, async (vm) => {
      name = vm.name;
      expect(vm.started).toBe('cold');
      expect(name).toMatch(/^demo-lifecycle-tiny/);
      expect(await domains()).toContain(name);
      // VNC on the VM's own unix socket (owner only), not on a TCP port.
      socket = (vm.vncEndpoint as { socket: string }).socket;
      expect(await tcpGreeting(socket)).toMatch(/^RFB 003\.00\d/);
      expect(await virsh('domdisplay', name)).toBe(`vnc+unix://${socket}`);
      expect('port' in vm.vncEndpoint).toBe(false);
      expect(vm.serial.text()).toContain('DEMOTOOL-READY');
      expect(runFiles(name).some((f) => f.endsWith('.qcow2'))).toBe(true);
      expect(vm.demo.directory).toBe(testInfo.outputPath('videos', 'lifecycle-tiny'));
      expect(await virsh('domstate', name)).toBe('running');
      testInfo.annotations.push({ type: 'boot', description: JSON.stringify(vm.timings) });
    });
  });
  expect(await domains()).not.toContain(name);
  expect(runFiles(name)).toEqual([]);
  expect(existsSync(socket)).toBe(false);
  // The demo directory is created lazily, on first output only.
  expect(existsSync(testInfo.outputPath('videos', 'lifecycle-tiny'))).toBe(false);
});

test('await using: the VM is removed when the scope ends, also when the body throws', async ({}, testInfo) => {
  let name = '';
  const run = async () => {
    await using demo = await startDemo('lifecycle-using', { outputDir: testInfo.outputPath('videos') });
    await using vm = await demo.vm('tiny');
    name = vm.name;
    expect(await domains()).toContain(name);
    throw new Error('body failed');
  };
  await expect(run()).rejects.toThrow('body failed');
  expect(name).not.toBe('');
  expect(await domains()).not.toContain(name);
  expect(runFiles(name)).toEqual([]);
});

test('a boot timeout gives the documented error and cleans up', async ({}, testInfo) => {
  const demo = await startDemo('lifecycle-timeout', { outputDir: testInfo.outputPath('videos'), artifactsDir: testInfo.outputPath('artifacts') });
  // Cold: a warm start of tiny can be ready within 2.5 s.
  const error = await demo.vm('tiny', { bootTimeout: 2500, start: 'cold' }).catch((e: unknown) => e);
  await demo.close();
  expect(error).toBeInstanceOf(BootError);
  const boot = error as BootError;
  expect(boot.code).toBe('EBOOTTIMEOUT');
  expect(boot.message).toMatch(/was not ready within 2500 ms/);
  expect(boot.message).toMatch(/serial log tail/);
  // The hint names what the caller set, in its unit, and files that still exist.
  expect(boot.hint).toContain('raise the bootTimeout option (milliseconds; now 2500 ms)');
  expect(boot.hint).not.toContain('DEMOTOOL_BOOT_TIMEOUT');
  expect(boot.serialLogPath).toBe(testInfo.outputPath('artifacts', `${boot.message.match(/VM (\S+)/)![1]}-boot-serial.log`));
  expect(existsSync(boot.serialLogPath!)).toBe(true);
  expect(boot.hint).toContain(`serial log: ${boot.serialLogPath}`);
  for (const path of `${boot.message}\n${(boot.cause as Error | undefined)?.message ?? ''}`.match(/\/\S+\.(log|png|ppm)\b/g) ?? [])
    expect(existsSync(path), `${path} is cited by the error`).toBe(true);
  expect(boot.screenshotPath).toBeTruthy();
  expect(existsSync(boot.screenshotPath!)).toBe(true);
  expect((await domains()).filter((d) => d.startsWith('demo-lifecycle-timeout'))).toEqual([]);
  expect(runFiles('demo-lifecycle-timeout')).toEqual([]);
});
