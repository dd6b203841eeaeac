/**
 * A boot that failed or timed out: the VM and its files are removed, and the error says what the
 * guest last showed (a screenshot, the serial log's tail, a copy of the log kept with the
 * test's artifacts) and which setting to raise after a timeout.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Domain } from '../libvirt/index.js';
import { Screen, type VncClient } from '../vnc/index.js';
import { DemotoolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Deadline } from '../timeouts.js';
import { cleanupsStarted } from '../process-exit.js';
import { runDir } from './state-directories.js';
import { removeRunFiles } from './run-files.js';
import type { SerialConsole } from './serial.js';

/** What of the boot request a failure report needs. */
export interface FailedBootRequest {
  name: string;
  image: { name: string };
  timeoutMs: number;
  /** Who chose timeoutMs, so a timeout's hint names what to raise. */
  timeoutSetBy?: 'option' | 'env' | 'default';
  artifactsDir: () => string;
  log: Logger;
  exhibit?: { directory: string };
}

/** The boot failed or timed out; the VM is already cleaned up. */
export class BootError extends DemotoolError {
  constructor(
    code: string,
    message: string,
    readonly screenshotPath: string | undefined,
    readonly serialTail: string,
    cause: unknown,
    /** The copy of the guest's serial log kept with the test's artifacts (the VM's own is gone). */
    readonly serialLogPath?: string,
    advice = 'see `demotool doctor`',
  ) {
    super(code, message, { cause, hint: bootHint(screenshotPath, serialTail, serialLogPath, advice) });
  }
}

/** What to raise after a boot timeout: the setting the user actually used, in its own unit. */
function timeoutAdvice(req: FailedBootRequest): string {
  const now = `now ${req.timeoutMs} ms`;
  switch (req.timeoutSetBy) {
    case 'option':
      return `raise the bootTimeout option (milliseconds; ${now}); see \`demotool doctor\``;
    case 'env':
      return `raise DEMOTOOL_BOOT_TIMEOUT (seconds; ${now}); see \`demotool doctor\``;
    default:
      return `on a slow machine give the boot more time: the bootTimeout option (milliseconds; ${now} by default), or DEMOTOOL_TIMEOUT_SCALE for every wait; see \`demotool doctor\``;
  }
}

function bootHint(shot: string | undefined, tail: string, serialLog: string | undefined, advice: string): string {
  const lines = tail.trim()
    ? tail
        .trim()
        .split('\n')
        .slice(-15)
        .map((l) => `      ${l}`)
        .join('\n')
    : '      (empty)';
  const log = serialLog ? `serial log: ${serialLog}\n    ` : '';
  return `last screenshot: ${shot ?? '(none: VNC never answered)'}\n    ${log}serial log tail:\n${lines}\n    ${advice}`;
}

/** Removes the VM and its files, and returns the BootError to throw. */
export async function failBoot(
  req: FailedBootRequest,
  vm: { domain: Domain; client?: VncClient; overlay: string; serial: SerialConsole; deadline: Deadline },
  error: unknown,
): Promise<unknown> {
  // Ctrl-C mid-boot: whatever step then failed (a restore whose QEMU the cleanup removed) failed because of it.
  const interrupted = cleanupsStarted();
  const shot = interrupted ? undefined : await lastScreenshot(req, vm).catch(() => undefined);
  const tail = vm.serial.tail(30);
  const serialCopy = join(req.artifactsDir(), `${req.name}-boot-serial.log`);
  const copied = await copyFile(vm.serial.path, serialCopy).then(
    () => true,
    () => false,
  );
  await vm.client?.close().catch(() => undefined);
  await vm.domain.remove().catch(() => undefined);
  // Every file of this VM: overlay, serial log, sockets, owner record, a definition left by a failed define.
  // Not when the name was taken by someone else's domain: those files would be theirs.
  if ((error as DemotoolError).code !== 'EVMEXISTS') {
    await removeRunFiles(runDir(), req.name);
    if (req.exhibit) await removeRunFiles(req.exhibit.directory, req.name);
  }
  const serialLog = copied ? serialCopy : undefined;
  if (interrupted) {
    req.log.warn('boot interrupted', { name: req.name });
    return new BootError('EINTERRUPTED', `VM ${req.name} (${req.image.name}): the boot was interrupted by a signal`, shot, tail, error, serialLog, INTERRUPTED);
  }
  const timedOut = vm.deadline.expired() || (error as DemotoolError).code === 'ETIMEOUT';
  const what = timedOut
    ? `VM ${req.name} (${req.image.name}) was not ready within ${req.timeoutMs} ms`
    : `VM ${req.name} (${req.image.name}) failed to boot: ${summary(error)}`;
  req.log.error('boot failed', { name: req.name, error: summary(error) });
  return new BootError(timedOut ? 'EBOOTTIMEOUT' : 'EBOOT', what, shot, tail, error, serialLog, timedOut ? timeoutAdvice(req) : undefined);
}

const INTERRUPTED = 'the VM and its files were removed; nothing is wrong with the image';

async function lastScreenshot(req: FailedBootRequest, vm: { domain: Domain; client?: VncClient }): Promise<string | undefined> {
  await mkdir(req.artifactsDir(), { recursive: true });
  const path = join(req.artifactsDir(), `${req.name}-boot-failure.png`);
  if (vm.client?.connected) {
    const screen = new Screen(vm.client, { artifactsDir: req.artifactsDir });
    await screen.screenshot({ path });
    return path;
  }
  if ((await vm.domain.state().catch(() => 'gone')) !== 'running') return undefined;
  const ppm = path.replace(/\.png$/, '.ppm');
  await vm.domain.screenshot(ppm);
  return ppm;
}

/** The most telling line of an error: libvirt puts QEMU's reason last. */
function summary(error: unknown): string {
  const lines = (error as Error).message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('→'));
  return lines.length > 1 ? `${lines[0]} — ${lines[lines.length - 1]}` : (lines[0] ?? String(error));
}
