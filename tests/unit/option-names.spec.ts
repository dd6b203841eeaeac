/**
 * Option errors name the option the user wrote and suggest the nearest known name: fixture
 * options under their own names (vmResources.cpus, demoOutputDir, vmReset), unknown VM and
 * recordDemo options with a "did you mean", all before anything boots.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { UsageError } from '../../src/errors.js';
import { closestName } from '../../src/closest-name.js';
import { recordDemo } from '../../src/index.js';
import { checkVmOptions } from '../../src/api/vm-options.js';
import { checkRecordDemoOptions } from '../../src/api/demo-options.js';
import { checkTestOptions, vmSettings, type DemotoolWorkerOptions } from '../../fixtures/options.js';

/** The UsageError `fn` throws: what it says (its message without the hint, which the message also shows) and its hint. */
function usageError(fn: () => unknown): { message: string; hint?: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    const { message, hint } = e as UsageError;
    return { message: message.split('\n')[0]!, hint };
  }
  throw new Error('no error was thrown');
}

const worker = (o: Partial<DemotoolWorkerOptions>): DemotoolWorkerOptions => ({
  vmImage: 'tiny',
  vmResources: undefined,
  bootTimeout: undefined,
  vmOptions: {},
  ...o,
});

test('the nearest name: one edit per three letters, swaps count once, case is ignored', () => {
  expect(closestName('snapshots', ['none', 'snapshot'])).toBe('snapshot');
  expect(closestName('netwrok', ['ready', 'network', 'video'])).toBe('network');
  expect(closestName('recrod', ['vm', 'record', 'demo'])).toBe('record');
  expect(closestName('memoryMib', ['cpus', 'memoryMiB'])).toBe('memoryMiB');
  // Nothing close enough, or the name itself: no suggestion.
  expect(closestName('fps', ['vm', 'record', 'demo'])).toBeUndefined();
  expect(closestName('xy', ['vm'])).toBeUndefined();
  expect(closestName('network', ['network'])).toBeUndefined();
});

test('vmReset: an unknown value is refused, naming the fixture option, its values and the nearest', () => {
  const e = usageError(() => checkTestOptions({ demoOutputDir: undefined, vmReset: 'snapshots' as never }));
  expect(e.message).toBe('fixture option vmReset: Invalid option: expected one of "none"|"snapshot" (did you mean "snapshot"?)');
  expect(usageError(() => checkTestOptions({ demoOutputDir: undefined, vmReset: true as never })).message).toMatch(
    /^fixture option vmReset: .*"none"\|"snapshot"$/,
  );
  expect(() => checkTestOptions({ demoOutputDir: undefined, vmReset: 'none' })).not.toThrow();
  expect(() => checkTestOptions({ demoOutputDir: '/tmp/x', vmReset: 'snapshot' })).not.toThrow();
});

test('fixture options are named as the config writes them, not as the VM or demo option they become', () => {
  expect(usageError(() => vmSettings(worker({ vmResources: { cpus: '2' } as never }))).message).toBe(
    'fixture option vmResources.cpus: Invalid input: expected number, received string',
  );
  expect(usageError(() => vmSettings(worker({ vmResources: { cpus: 0 } }))).message).toMatch(/^fixture option vmResources\.cpus: Too small/);
  expect(usageError(() => checkTestOptions({ demoOutputDir: 5 as never, vmReset: 'none' })).message).toBe(
    'fixture option demoOutputDir: Invalid input: expected string, received number',
  );
  expect(usageError(() => vmSettings(worker({ vmOptions: { network: 'opne' } as never }))).message).toBe(
    'fixture option vmOptions.network: Invalid option: expected one of "closed"|"open" (did you mean "open"?)',
  );
  // The VM options' refinements hold under the fixture's names too.
  expect(usageError(() => vmSettings(worker({ vmOptions: { ready: { strategy: 'needle' } } }))).message).toMatch(
    /^fixture option vmOptions\.ready: strategy 'needle' needs a needle/,
  );
  // Valid options pass, and map as before.
  expect(vmSettings(worker({ vmResources: { cpus: 2, memoryMiB: 1024 }, bootTimeout: 60_000, vmOptions: { network: 'open', hardware: 'uefi' } }))).toEqual({
    image: 'tiny',
    options: { network: 'open', hardware: 'uefi', resources: { cpus: 2, memoryMiB: 1024 }, bootTimeout: 60_000 },
  });
});

test('an unknown vmOptions key gets the nearest; one with a fixture option of its own says which', () => {
  const e = usageError(() => vmSettings(worker({ vmOptions: { netwrok: 'open' } as never })));
  expect(e.message).toBe('unknown fixture option "vmOptions.netwrok" (did you mean "vmOptions.network"?)');
  // resources and bootTimeout are not vmOptions: not listed as known there.
  expect(e.hint).toMatch(/^known vmOptions options: ready, network, /);
  expect(e.hint).not.toMatch(/resources|bootTimeout/);
  expect(usageError(() => vmSettings(worker({ vmOptions: { resources: { cpus: 2 } } as never }))).message).toBe(
    'fixture option vmOptions.resources: not in vmOptions: set it with the fixture option vmResources',
  );
  expect(usageError(() => vmSettings(worker({ vmOptions: { bootTimeout: 5000 } as never }))).message).toBe(
    'fixture option vmOptions.bootTimeout: not in vmOptions: set it with the fixture option bootTimeout',
  );
});

test('an unknown VM option gets the nearest known one, at any depth', () => {
  const e = usageError(() => checkVmOptions({ netwrok: 'open' } as never));
  expect(e.message).toBe('unknown VM option "netwrok" (did you mean "network"?)');
  expect(e.hint).toContain('known options: resources, bootTimeout, ready, network,');
  expect(usageError(() => checkVmOptions({ resources: { cpu: 2 } } as never)).message).toBe(
    'unknown VM option "resources.cpu" (did you mean "resources.cpus"?)',
  );
  // Through the hardware option's preprocess (a profile name is short for { profile }).
  const hw = usageError(() => checkVmOptions({ hardware: { profile: 'uefi', nics: 'e1000' } } as never));
  expect(hw.message).toBe('unknown VM option "hardware.nics" (did you mean "hardware.nic"?)');
  expect(hw.hint).toBe('known hardware options: profile, disk, nic, video, clock');
  // Far from every known option: no guess, the list still there.
  const far = usageError(() => checkVmOptions({ colour: 'blue' } as never));
  expect(far.message).toBe('unknown VM option "colour"');
  expect(far.hint).toContain('known options: ');
});

test('recordDemo refuses unknown keys, with the nearest, and bad record options', () => {
  const fps = usageError(() => checkRecordDemoOptions({ fps: 'thirty' }));
  expect(fps.message).toBe('unknown recordDemo option "fps"');
  expect(fps.hint).toContain('each option goes under vm, record or demo, e.g. { record: { fps: 30 } }');
  expect(fps.hint).toContain('known options: vm, record, demo');
  expect(usageError(() => checkRecordDemoOptions({ recrod: { fps: 30 } })).message).toBe('unknown recordDemo option "recrod" (did you mean "record"?)');
  expect(usageError(() => checkRecordDemoOptions({ record: { fps: 'thirty' } })).message).toMatch(/^record option fps: /);
  expect(usageError(() => checkRecordDemoOptions({ record: { fsp: 30 } })).message).toBe('unknown record option "fsp" (did you mean "fps"?)');
  expect(() => checkRecordDemoOptions(undefined)).not.toThrow();
  expect(() => checkRecordDemoOptions({ vm: { network: 'open' }, record: { fps: 30 }, demo: { joinSections: false } })).not.toThrow();
});

test('recordDemo refuses an unknown key before the demo opens or the VM boots', async () => {
  const outputDir = join(test.info().outputPath('videos'));
  let ran = false;
  const body = async () => {
    ran = true;
  };
  for (const options of [{ fps: 'thirty' }, { recrod: { fps: 30 } }]) {
    const error = await recordDemo('Rec Demo', 'tiny', body, { ...options, demo: { outputDir } } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^unknown recordDemo option "(fps|recrod)"/);
  }
  expect(ran).toBe(false);
  expect(existsSync(outputDir)).toBe(false);
});
