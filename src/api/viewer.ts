import { spawn, type ChildProcess } from 'node:child_process';
import { libvirtUri } from '../libvirt/index.js';
import { createLogger, type Logger } from '../log.js';

/** An open viewer window; close() ends it (idempotent). */
export interface Viewer {
  readonly pid?: number;
  close(): void;
}

const NO_VIEWER: Viewer = { close: () => undefined };

/** True when DEMOTOOL_VIEW asks for a viewer on each VM. */
export function viewerRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.DEMOTOOL_VIEW ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/**
 * Opens `virt-viewer --connect URI DOMAIN` on a running VM for someone watching at a desk.
 * Never throws: without virt-viewer or a display it logs a warning (with the apt command)
 * and returns a viewer that does nothing, because watching is optional and tests must not fail for it.
 */
export function openViewer(domain: string, options: { uri?: string; log?: Logger; command?: string } = {}): Promise<Viewer> {
  const log = options.log ?? createLogger('viewer');
  const command = options.command ?? 'virt-viewer';
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    log.warn('DEMOTOOL_VIEW is set but there is no display (DISPLAY / WAYLAND_DISPLAY); not opening a viewer', { vm: domain });
    return Promise.resolve(NO_VIEWER);
  }
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, ['--connect', options.uri ?? libvirtUri(), domain], { stdio: 'ignore', detached: false });
    } catch (e) {
      warnMissing(log, command, e);
      return resolve(NO_VIEWER);
    }
    child.once('error', (e) => {
      warnMissing(log, command, e);
      resolve(NO_VIEWER);
    });
    child.once('spawn', () => {
      log.info('viewer opened', { vm: domain, pid: child.pid });
      resolve({ pid: child.pid, close: () => void (child.exitCode === null && child.kill('SIGTERM')) });
    });
  });
}

function warnMissing(log: Logger, command: string, e: unknown): void {
  const missing = (e as NodeJS.ErrnoException)?.code === 'ENOENT';
  log.warn(missing ? `DEMOTOOL_VIEW is set but ${command} is not installed; the run continues without a viewer` : `could not start ${command}`, {
    hint: missing ? 'sudo apt-get install virt-viewer' : undefined,
    error: missing ? undefined : (e as Error)?.message,
  });
}
