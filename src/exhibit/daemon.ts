/**
 * `demotool exhibit`: one artwork's VM kept running under a watchdog, configured by one file.
 * The daemon owns the watchdog and the kiosk viewer, never the VM's life: the VM is the
 * exhibit's, and stays defined (and, unless the config says `onStop: shutdown`, running) when
 * the daemon stops, so a daemon restart is invisible to visitors.
 */
import path from 'node:path';
import { ExhibitVm, type ExhibitVmFound } from '../api/internal.js';
import { libvirtUri } from '../libvirt/index.js';
import type { Logger } from '../log.js';
import { Watchdog, type WatchdogOptions } from '../watchdog/index.js';
import { loadExhibitConfig, type ExhibitConfig } from './config.js';
import { ExhibitConfigError } from './config-errors.js';
import { displayPresent, kioskCommand, KioskViewer } from './kiosk.js';
import { planReload } from './reload-plan.js';
import { exhibitVmName } from './vm-name.js';

/** What a SIGHUP did. */
export interface ReloadResult {
  applied: boolean;
  /** Why it was refused, when it was. */
  reason?: string;
}

export class ExhibitDaemon {
  private kiosk?: KioskViewer;
  private stopping?: Promise<void>;

  private constructor(
    private config: ExhibitConfig,
    readonly vm: ExhibitVm,
    private watchdog: Watchdog,
    private readonly log: Logger,
  ) {}

  /**
   * Reads the config (a bad one throws {@link ExhibitConfigError} before anything is touched),
   * finds or boots the VM, brings it to its snapshot as `onStart` says, and starts watching.
   */
  static async start(configFile: string, log: Logger): Promise<ExhibitDaemon> {
    const config = await loadExhibitConfig(path.resolve(configFile));
    const source = 'domain' in config.vm ? { domain: config.vm.domain } : { image: config.vm.image, name: exhibitVmName(config) };
    const { vm, found } = await ExhibitVm.open({
      source,
      config: config.file,
      snapshot: config.watchdog.snapshot,
      transport: config.transport,
      resources: config.resources,
      hardware: 'hardware' in config.vm ? config.vm.hardware : undefined,
      services: config.services,
      log: log.child('vm'),
    });
    let watchdog: Watchdog | undefined;
    try {
      const state = await settleNetwork(vm, found, log);
      watchdog = await Watchdog.start(vm, watchdogOptions(config, state === 'stopped' ? 'never' : config.watchdog.takeSnapshot), log.child('watchdog'));
      await bringToSnapshot(watchdog, state, config, log);
    } catch (e) {
      await watchdog?.close();
      await vm.detach();
      throw e;
    }
    const daemon = new ExhibitDaemon(config, vm, watchdog, log);
    daemon.startKiosk();
    log.info('exhibit running', { config: config.file, vm: vm.name, found, api: watchdog.url, onStart: config.onStart });
    return daemon;
  }

  /** The control API and status page. */
  get url(): string | undefined {
    return this.watchdog.url;
  }

  get currentWatchdog(): Watchdog {
    return this.watchdog;
  }

  /**
   * Reads the config again and applies it (SIGHUP). A config that is invalid, or that changes
   * which VM runs, is refused: the running one stays, and the reason is logged.
   */
  async reload(): Promise<ReloadResult> {
    let next: ExhibitConfig;
    try {
      next = await loadExhibitConfig(this.config.file);
    } catch (e) {
      const reason = e instanceof ExhibitConfigError ? e.message : `cannot read the config: ${(e as Error).message}`;
      this.log.error('reload refused: the running config stays', { reason });
      return { applied: false, reason };
    }
    const plan = planReload(this.config, next);
    if (plan.refused) {
      this.log.error('reload refused: the running config stays', { reason: plan.refused });
      return { applied: false, reason: plan.refused };
    }
    if (plan.watchdog) {
      const refused = await this.restartWatchdog(next);
      if (refused) return { applied: false, reason: refused };
    }
    this.config = next;
    if (plan.kiosk) {
      await this.kiosk?.stop();
      this.kiosk = undefined;
      this.startKiosk();
    }
    this.log.info('config reloaded', { watchdog: plan.watchdog, kiosk: plan.kiosk, unchanged: plan.unchanged });
    return { applied: true };
  }

  /** SIGTERM: the viewer and the watchdog stop; the VM stays running, or is shut off, as `onStop` says. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.kiosk?.stop();
      await this.watchdog.close();
      if (this.config.onStop === 'shutdown') await this.vm.shutdown();
      else await this.vm.detach();
      this.log.info('exhibit stopped', { vm: this.vm.name, vm_left: this.config.onStop === 'shutdown' ? 'shut off' : 'running' });
    })();
    return this.stopping;
  }

  /** A new watchdog with the new options; if it can't start, the old options come back. Returns why it was refused, if it was. */
  private async restartWatchdog(next: ExhibitConfig): Promise<string | undefined> {
    const previousUrl = this.watchdog.url;
    await this.watchdog.close();
    // 'always' means "take the snapshot at start": a reload must not replace the known-good state.
    const takeSnapshot = next.watchdog.takeSnapshot === 'always' ? 'if-missing' : next.watchdog.takeSnapshot;
    try {
      this.watchdog = await Watchdog.start(this.vm, samePort(watchdogOptions(next, takeSnapshot), previousUrl), this.log.child('watchdog'));
      return undefined;
    } catch (e) {
      const reason = `the watchdog did not start with the new config: ${(e as Error).message}`;
      this.log.error('reload refused: the running config stays', { reason });
      this.watchdog = await Watchdog.start(this.vm, samePort(watchdogOptions(this.config, 'never'), previousUrl), this.log.child('watchdog'));
      return reason;
    }
  }

  private startKiosk(): void {
    if (!this.config.kiosk.enabled) return;
    if (!displayPresent()) {
      this.log.warn('kiosk: no display (DISPLAY or WAYLAND_DISPLAY is unset); the viewer is not started', {
        hint: "run the daemon in the kiosk user's graphical session, or set DISPLAY in the unit (see docs/operators.md)",
      });
      return;
    }
    this.kiosk = KioskViewer.start({ command: kioskCommand(this.config.kiosk, this.vm.name, libvirtUri()), log: this.log.child('kiosk') });
  }
}

function watchdogOptions(config: ExhibitConfig, takeSnapshot: WatchdogOptions['takeSnapshot']): WatchdogOptions {
  return { ...config.watchdog, takeSnapshot };
}

/** `port: 0` picks a free port once, at start: a reload keeps it, so the status page and scrapers keep their URL. */
function samePort(options: WatchdogOptions, previousUrl: string | undefined): WatchdogOptions {
  const port = previousUrl ? Number(new URL(previousUrl).port) : 0;
  if (!options.api || options.api.port !== 0 || !port) return options;
  return { ...options, api: { ...options.api, port } };
}

/**
 * A running VM whose guest network had to be started anew (its helper died with the host's
 * processes, not with the VM) can't reach the watchdog over HTTP until QEMU restarts: treat it
 * as stopped, so it starts again from its snapshot.
 */
async function settleNetwork(vm: ExhibitVm, found: ExhibitVmFound, log: Logger): Promise<ExhibitVmFound> {
  if (found !== 'running' || !vm.networkRestarted) return found;
  log.warn("the VM's guest network was gone: restarting the VM from its snapshot", { vm: vm.name });
  await vm.domain.powerOff();
  return 'stopped';
}

/** What `onStart` asks of the VM found: a stopped one starts from its snapshot; a running one is reverted, or kept when healthy. */
async function bringToSnapshot(watchdog: Watchdog, found: ExhibitVmFound, config: ExhibitConfig, log: Logger): Promise<void> {
  if (found === 'booted') return;
  if (found === 'stopped') {
    await watchdog.start();
    log.info('vm started from its snapshot', { snapshot: config.watchdog.snapshot });
  } else if (config.onStart === 'revert') {
    await watchdog.revert('daemon start (onStart: revert)');
    log.info('vm reverted to its snapshot', { snapshot: config.watchdog.snapshot });
  } else {
    // The watchdog judges it from now on: no heartbeat within heartbeatTimeout (or a paused or crashed domain) reverts it.
    log.info('vm left running (onStart: keep-if-healthy); the watchdog judges its health from now', { heartbeatTimeout: config.watchdog.heartbeatTimeout });
  }
}
