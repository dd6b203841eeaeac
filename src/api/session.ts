import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageCache, type ImageRecipe } from '../images/index.js';
import { joinSections, OutputDirectoryError, type RecordingResult } from '../record/index.js';
import { createLogger, type Logger } from '../log.js';
import { defaultTimeout } from '../timeouts.js';
import { decideAccel } from './accel.js';
import { bootVm } from './boot.js';
import { guardBoot } from './boot-guard.js';
import { Domain } from '../libvirt/index.js';
import { slug } from './demo-name.js';
import { vmName } from './vm-name.js';
import { outputBase } from './output-directory.js';
import { checkVmOptions, imageOnHardware, vmHardware, type VmOptions } from './vm-options.js';
import { checkDemoOptions, type DemoOptions } from './demo-options.js';
import { UsageError } from '../errors.js';
import { Vm, type VmOwner } from './vm.js';
import { domainImage, isDomainSpec } from './domain-source.js';

export type { DemoOptions };

/** The default boot timeout: `Timeouts.boot`, scaled. */
export function bootTimeoutMs(): number {
  return defaultTimeout('boot');
}

/** Open sessions by output directory: two at once in one directory would mix their sections. */
const openDirectories = new Map<string, string>();

/**
 * A demo: an output directory, its VMs and its recorded sections. Open one with
 * `startDemo()`; `close()` (or `await using`) removes its VMs and joins its sections.
 */
export class DemoSession implements VmOwner, AsyncDisposable {
  /** The demo's name as a directory name ('My Demo!' → 'my-demo'). */
  readonly name: string;
  /** Absolute path of demo-videos/{name}; created on first output. */
  readonly directory: string;
  /** The sections vm.record() wrote, in order. */
  readonly sections: RecordingResult[] = [];
  private readonly vms = new Set<Vm>();
  private readonly log: Logger;
  private readonly cache: ImageCache;
  private readonly options: DemoOptions;
  private artifactsOverride?: string;
  private closed?: Promise<void>;

  /**
   * @throws {@link UsageError} for a bad option, a name without letters or digits, or one whose directory
   * an open demo is using.
   */
  constructor(name: string, options: DemoOptions = {}) {
    this.name = slug(name);
    this.options = checkDemoOptions(options);
    this.directory = join(options.outputDir ?? outputBase(), this.name);
    const holder = openDirectories.get(this.directory);
    if (holder !== undefined)
      throw new UsageError(
        `demo ${JSON.stringify(name)} would write to ${this.directory}, which the open demo ${JSON.stringify(holder)} is using`,
        'close that demo first, or give this one another name or outputDir',
      );
    openDirectories.set(this.directory, name);
    this.log = options.log ?? createLogger(`demo:${this.name}`);
    this.cache = options.imageCache ?? new ImageCache({ log: this.log.child('images') });
  }

  /**
   * Creates the demo directory if needed (vm.record() calls this).
   * @returns its path.
   * @throws {@link OutputDirectoryError} when it can't be created.
   * @internal
   */
  async ensureDirectory(): Promise<string> {
    try {
      await mkdir(this.directory, { recursive: true });
    } catch (e) {
      throw new OutputDirectoryError(this.directory, `cannot create the demo directory ${this.directory}: ${(e as Error).message}`, {
        hint: 'run from a writable directory, or pass outputDir',
        cause: e,
      });
    }
    return this.directory;
  }

  /** Where failure artifacts (screenshots, diffs) go now. */
  artifactsDir(): string {
    return this.artifactsOverride ?? this.options.artifactsDir ?? this.directory;
  }

  /** Send failure artifacts somewhere else for a while (the fixtures: the running test's output dir). @internal */
  useArtifactsDir(dir: string | undefined): void {
    this.artifactsOverride = dir;
  }

  /** Adds a recorded section (vm.record() calls this). @internal */
  addSection(result: RecordingResult): void {
    this.sections.push(result);
  }

  /**
   * Boots a VM from `image` (an image name such as 'tiny', or a recipe: README "Your own image:
   * recipes"; a recipe's image is built first when the cache has none) through a
   * qcow2 overlay, and returns once it is ready for input. The whole boot takes at most
   * `options.bootTimeout` (default `Timeouts.boot`). With a body: the VM is removed when the
   * body ends, however it ends.
   * @returns the VM, or with a body: what the body returned.
   * @throws {@link UsageError} for a bad option (before anything happens); {@link BootError}
   * when the boot fails or is not ready in time (the VM is already gone); whatever the body throws.
   */
  vm(image: string | ImageRecipe, options?: VmOptions): Promise<Vm>;
  vm<T>(image: string | ImageRecipe, body: (vm: Vm) => Promise<T>): Promise<T>;
  vm<T>(image: string | ImageRecipe, options: VmOptions, body: (vm: Vm) => Promise<T>): Promise<T>;
  async vm<T>(image: string | ImageRecipe, a?: VmOptions | ((vm: Vm) => Promise<T>), b?: (vm: Vm) => Promise<T>): Promise<Vm | T> {
    const options = typeof a === 'function' ? {} : (a ?? {});
    const body = typeof a === 'function' ? a : b;
    // A recipe: the options are checked before its image is built (or found), then the VM boots that image by name.
    if (typeof image !== 'string') checkVmOptions(options);
    const vm = await this.boot(typeof image === 'string' ? image : (await this.cache.ensure(image)).name, options);
    if (!body) return vm;
    try {
      return await body(vm);
    } finally {
      await vm.close();
    }
  }

  private async boot(imageName: string, given: VmOptions): Promise<Vm> {
    const { kernelArgs, bootTimeout, blankDiskBytes, start } = checkVmOptions(given);
    // An existing domain gives the defaults the user's options leave out (domain-source.ts).
    const { image: cached, options } = isDomainSpec(imageName)
      ? await domainImage(this.cache, imageName, given, this.log)
      : { image: await this.cache.ensure(imageName), options: given };
    const hardware = vmHardware(options, cached.hardware);
    if (blankDiskBytes !== undefined && !cached.cdrom)
      throw new UsageError(`blankDisk is for ISO images; ${imageName} boots from a disk of its own`, 'remove blankDisk, or boot an ISO image (file:PATH)');
    const image = imageOnHardware(cached, hardware);
    if (kernelArgs.length && !image.boot)
      throw new UsageError(
        `guestMonitors need a built-in image; ${imageName} boots its own kernel`,
        'install guest/linux/demotool-guest in the guest and set a transport in /etc/demotool/guest.conf',
      );
    const accel = options.accel ?? (await decideAccel(this.cache)).accel;
    const name = vmName(this.name);
    const uuid = randomUUID();
    let vm: Vm | undefined = undefined;
    // Before the boot, so Ctrl-C during the boot still removes the domain and its files.
    const unguard = guardBoot(new Domain(name, undefined, uuid), this.log, () => vm?.close());
    const booted = await bootVm({
      name,
      uuid,
      image,
      accel,
      resources: options.resources,
      network: options.network,
      guestApi: options.guestApi,
      kernelArgs,
      video: options.video,
      hardware,
      blankDiskBytes,
      ready: options.ready,
      start: options.start ?? start, // the caller's; 'cold' for an existing domain (domain-source.ts); else DEMOTOOL_START's
      savedBoots: this.cache.savedBootsDir,
      services: options.services,
      installLocalCa: options.installLocalCa,
      timeoutMs: bootTimeout ?? bootTimeoutMs(),
      timeoutSetBy: bootTimeout !== undefined ? 'option' : process.env.DEMOTOOL_BOOT_TIMEOUT ? 'env' : 'default',
      artifactsDir: () => this.artifactsDir(),
      log: this.log,
      slot: Number(process.env.TEST_PARALLEL_INDEX ?? 0),
    }).catch((e) => {
      unguard();
      throw e;
    });
    vm = new Vm({
      ...booted,
      name,
      image,
      demo: this,
      accel,
      log: this.log,
      onClose: () => {
        unguard();
        this.vms.delete(vm!);
      },
    });
    this.vms.add(vm);
    return vm;
  }

  /**
   * Removes the VMs still running and joins the recorded mp4 sections into {demo}.mp4 with
   * one chapter per section (unless `joinSections: false`). Idempotent.
   * @throws {@link VmError} EVMREMOVE when a VM can't be removed; {@link FinalizeError} or
   * {@link CommandTimeoutError} when joining fails.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      openDirectories.delete(this.directory);
      for (const vm of [...this.vms]) await vm.close();
      if ((this.options.joinSections ?? true) && this.sections.length > 0) await this.join();
    })();
    return this.closed;
  }

  private async join(): Promise<void> {
    const mp4s = this.sections.filter((s) => s.format === 'mp4');
    if (mp4s.length === 0) return;
    const out = join(this.directory, `${this.name}.mp4`);
    await joinSections(
      mp4s.map((s) => ({ path: s.path, title: s.section })),
      out,
    );
    this.log.info('demo joined', { path: out, sections: mp4s.length });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
