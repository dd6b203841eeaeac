/**
 * Running a command in the guest's serial console shell (ttyS0) through the unix socket QEMU
 * listens on. QEMU drops what it has not yet handed to the guest's UART when the client goes, so
 * the socket stays open until the command has run and the shell has printed its next prompt:
 * then nothing of it lands in the serial log after the caller goes on.
 */
import { createConnection } from 'node:net';

/** Output quiet for this long after the command's marker: the shell's prompt has been printed. */
const PROMPT_QUIET_MS = 150;

/**
 * Types `command` and a carriage return, followed by an echo of a marker; true once the marker
 * was printed and the console fell quiet, false if it wasn't printed within `timeoutMs`.
 */
export function runInConsole(socketPath: string, command: string, timeoutMs: number): Promise<boolean> {
  // Written "A""B" so that the tty's echo of the line doesn't match the output.
  const marker = `DEMOTOOL-DONE-${Math.random().toString(36).slice(2, 8)}`;
  const line = `${command}; echo ${marker.slice(0, 8)}""${marker.slice(8)}`;
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let seen = '';
    let quiet: NodeJS.Timeout | undefined;
    const finish = (done: boolean) => {
      clearTimeout(timer);
      clearTimeout(quiet);
      socket.destroy();
      resolve(done);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => socket.write(`${line}\r`));
    socket.on('data', (chunk: Buffer) => {
      // Keep only what could still hold the marker.
      seen = (seen + chunk.toString('latin1')).slice(-(line.length * 2 + 256));
      if (quiet || seen.includes(marker)) {
        clearTimeout(quiet);
        quiet = setTimeout(() => finish(true), PROMPT_QUIET_MS);
      }
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      clearTimeout(quiet);
      socket.destroy();
      reject(e);
    });
  });
}
