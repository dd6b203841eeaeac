import { DemoSession, type DemoOptions } from './session.js';
import { checkRecordDemoOptions } from './demo-options.js';
import type { VmOptions } from './vm-options.js';
import type { Vm } from './vm.js';
import type { RecordOptions } from '../record/index.js';

/**
 * Opens a demo session: an output directory (demo-videos/{name}), its VMs and its recorded
 * sections. Nothing boots until `demo.vm()`.
 *
 *   await startDemo('x', async (demo) => { ... })      — closed when the body ends
 *   await using demo = await startDemo('x')            — closed at scope exit
 *
 * @returns the session, or with a body: what the body returned (the session is closed
 * however the body ends).
 * @throws {@link UsageError} for a name without letters or digits, or one whose directory an
 * open demo is using; whatever the body throws.
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
 * One demo, one VM, and the whole body recorded as one section
 * (demo-videos/{name}/{name}.mp4). For several sections use startDemo and vm.record.
 * The VM boots within `options.vm.bootTimeout` (default `Timeouts.boot`).
 *
 * @returns what the body returned, once the VM is removed and the video finished.
 * @throws {@link UsageError} for a bad option (before anything boots); {@link BootError}
 * when the VM does not boot; a {@link RecordingError} subclass when the recording fails;
 * whatever the body throws (the video is still finished).
 */
export async function recordDemo<T>(
  name: string,
  image: string,
  body: (vm: Vm) => Promise<T>,
  options: { vm?: VmOptions; record?: RecordOptions; demo?: DemoOptions } = {},
): Promise<T> {
  // Checked before the VM boots: an unknown key or a bad record option should not cost a boot.
  checkRecordDemoOptions(options);
  return startDemo(name, { joinSections: false, ...options.demo }, (demo) =>
    demo.vm(image, options.vm ?? {}, async (vm) => {
      let result!: T;
      await vm.record(
        demo.name,
        async () => {
          result = await body(vm);
        },
        options.record,
      );
      return result;
    }),
  );
}
