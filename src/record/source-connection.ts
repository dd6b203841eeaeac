import { Deadline, sleep } from '../timeouts.js';
import { SourceNotConnectedError } from './errors.js';
import type { FrameSource } from '../frames.js';

/** How long a recording waits at its start for the source (the VNC mirror) to connect. */
const CONNECT_WAIT_MS = 5_000;
const POLL_MS = 50;

/** Resolves once the source is connected; SourceNotConnectedError after `timeoutMs`. */
export async function waitConnected(source: FrameSource, timeoutMs = CONNECT_WAIT_MS): Promise<void> {
  const deadline = new Deadline(timeoutMs, 'the frame source connecting');
  while (!source.connected) {
    if (deadline.expired()) {
      throw new SourceNotConnectedError(`the VNC connection was not up within ${timeoutMs} ms, cannot start recording`, {
        hint: 'make sure the VM is running and its VNC display is reachable before recording',
      });
    }
    await sleep(Math.min(POLL_MS, Math.max(1, deadline.remaining())));
  }
}
