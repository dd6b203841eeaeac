/**
 * Client-to-server RFB messages we write ourselves (RFC 6143 §7.5), so each one can be
 * awaited until the socket has flushed it, in order. rfb2's own senders are fire-and-forget.
 */
/** One key event: an X keysym, pressed or released. */
export interface KeyEvent {
  keysym: number;
  down: boolean;
}

/** Key events back to back, in one buffer. */
export function keyEventMessages(events: readonly KeyEvent[]): Buffer {
  return Buffer.concat(events.map((e) => keyEventMessage(e.keysym, e.down)));
}

function keyEventMessage(keysym: number, down: boolean): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(4, 0);
  b.writeUInt8(down ? 1 : 0, 1);
  b.writeUInt32BE(keysym >>> 0, 4);
  return b;
}

export function pointerEventMessage(x: number, y: number, buttonMask: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt8(5, 0);
  b.writeUInt8(buttonMask & 0xff, 1);
  b.writeUInt16BE(x, 2);
  b.writeUInt16BE(y, 4);
  return b;
}

export function updateRequestMessage(incremental: boolean, width: number, height: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt8(3, 0);
  b.writeUInt8(incremental ? 1 : 0, 1);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(0, 4);
  b.writeUInt16BE(width, 6);
  b.writeUInt16BE(height, 8);
  return b;
}
