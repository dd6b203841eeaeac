/**
 * The one place demotool reaches into rfb2's parser. rfb2 emits 'rect' per rectangle but
 * nothing when a FramebufferUpdate message ends, and the mirror needs that moment: it is
 * when a whole update has been painted, the version can be bumped once, and the next update
 * request can go out (one request outstanding at a time).
 *
 * rfb2 0.2.2's parser calls `this.readFbUpdate()` when a FramebufferUpdate header arrives and
 * `this.expectNewMessage()` right after the last rectangle of it (and after every other
 * server message). Both are looked up on the instance, so shadowing them on one client
 * marks the start of an update and reports its end. tests/unit/vnc-rfb2-patch.spec.ts feeds
 * the real rfb2 the messages we rely on, so an rfb2 upgrade that changes this fails there.
 */
import type { Rfb2Client } from './rfb2.js';

/** Calls `onUpdateEnd` once after the last rectangle of every FramebufferUpdate `rfb` parses. */
export function hookUpdateEnd(rfb: Rfb2Client, onUpdateEnd: () => void): void {
  const readFbUpdate = rfb.readFbUpdate;
  const expectNewMessage = rfb.expectNewMessage;
  if (typeof readFbUpdate !== 'function' || typeof expectNewMessage !== 'function') {
    throw new Error('this rfb2 version has no readFbUpdate/expectNewMessage to hook: src/vnc/rfb2-patch.ts needs updating');
  }
  let inUpdate = false;
  rfb.readFbUpdate = () => {
    inUpdate = true;
    readFbUpdate.call(rfb);
  };
  rfb.expectNewMessage = () => {
    if (inUpdate) {
      inUpdate = false;
      onUpdateEnd();
    }
    expectNewMessage.call(rfb);
  };
}
