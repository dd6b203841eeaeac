/**
 * Typing a line into the guest's serial console (ttyS0) through the unix socket QEMU listens on.
 * QEMU drops what it has not yet handed to the guest's UART when the client goes, so the socket
 * stays open until the guest has echoed the line back (its tty echoes what it reads).
 */
import { createConnection } from 'node:net';

/** Writes `line` and a carriage return; true once the guest echoed it, false if it didn't within `echoTimeoutMs`. */
export function typeIntoConsole(socketPath: string, line: string, echoTimeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let seen = '';
    const finish = (echoed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(echoed);
    };
    const timer = setTimeout(() => finish(false), echoTimeoutMs);
    socket.once('connect', () => socket.write(`${line}\r`));
    socket.on('data', (chunk: Buffer) => {
      // Keep only what could still hold the echo: the guest may print a prompt or more around it.
      seen = (seen + chunk.toString('latin1')).slice(-(line.length * 2 + 256));
      if (seen.includes(line)) finish(true);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}
