/** The public API: demo sessions and the VM object. */
import { DemoSession, type DemoOptions, type VmOptions } from './session.js';
import type { Vm } from './vm.js';
import { validateRecordOptions, type RecordOptions } from '../record/index.js';

export { DemoSession, bootTimeoutMs, type DemoOptions, type VmOptions } from './session.js';
export type { GuestMonitors } from './guest-monitors.js';
export { Vm, type VmOwner } from './vm.js';
export { BootError } from './boot.js';
export { GuestAgentError, type ExecResult, type ExecOptions } from './guest-agent.js';
export { SerialConsole } from './serial.js';
export { READY_DEFAULTS, type ReadyOptions, type ReadyStrategy } from './readiness.js';
export { runCleanups } from '../process-exit.js';
export { slug, vmName, outputBase, runDir } from './names.js';
export { decideAccel } from './accel.js';
export type { StepRunner } from './steps.js';
export { startRecording, type Recording, type RecordableVm } from './test-recording.js';

/**
 * Start a demo session (the spec's `startdemo` context manager).
 *   await startDemo('x', async (demo) => { ... })      — closed when the body ends
 *   await using demo = await startDemo('x')            — closed at scope exit
 */
export function startDemo(name: string, options?: DemoOptions): Promise<DemoSession>;
export function startDemo<T>(name: string, body: (demo: DemoSession) => Promise<T>): Promise<T>;
export function startDemo<T>(name: string, options: DemoOptions, body: (demo: DemoSession) => Promise<T>): Promise<T>;
export async function startDemo<T>(
  name: string,
  a?: DemoOptions | ((demo: DemoSession) => Promise<T>),
  b?: (demo: DemoSession) => Promise<T>,
): Promise<DemoSession | T> {
  const options = typeof a === 'function' ? {} : (a ?? {});
  const body = typeof a === 'function' ? a : b;
  const demo = new DemoSession(name, options);
  if (!body) return demo;
  try {
    return await body(demo);
  } finally {
    await demo.close();
  }
}

/**
 * The spec's `recordDemo(name, image)`: one demo, one VM, and the whole body recorded as one
 * section (demo-videos/{name}/{name}.mp4). For several sections use startDemo + vm.record.
 */
export async function recordDemo<T>(
  name: string,
  image: string,
  body: (vm: Vm) => Promise<T>,
  options: { vm?: VmOptions; record?: RecordOptions; demo?: DemoOptions } = {},
): Promise<T> {
  // Checked before the VM boots: a bad record option should not cost a boot.
  if (options.record) validateRecordOptions(options.record);
  return startDemo(name, { joinSections: false, ...options.demo }, (demo) =>
    demo.vm(image, options.vm ?? {}, async (vm) => {
      let result!: T;
      await vm.record(demo.name, async () => {
        result = await body(vm);
      }, options.record);
      return result;
    }),
  );
}
