/**
 * The guest's messages, whichever way they come (HTTP or a serial line). One vocabulary:
 *   heartbeat                      — alive
 *   revert-request [reason]        — the guest asks to be reverted (process gone, error seen)
 *   idle-reset [seconds idle]      — user activity was seen this many seconds ago (0: just now)
 */
export type GuestMessage =
  { kind: 'heartbeat' } | { kind: 'revert-request'; reason?: string; severity?: string } | { kind: 'idle-reset'; idleSeconds?: number };

export type GuestVia = 'http' | 'serial';

const MAX_LINE = 512;

/**
 * One line from the serial transport, as a DOS batch file or `echo` can write it:
 * `HEARTBEAT`, `REVERT process viewer.exe is gone`, `IDLE-RESET 0`. Case does not matter;
 * anything else (boot noise on the port) is undefined.
 */
export function parseGuestLine(line: string): GuestMessage | undefined {
  const text = line.replace(/[\r\0]/g, '').trim();
  if (!text || text.length > MAX_LINE) return undefined;
  const [word = '', ...rest] = text.split(/\s+/);
  const arg = rest.join(' ');
  switch (word.toUpperCase()) {
    case 'HEARTBEAT':
    case 'HB':
      return { kind: 'heartbeat' };
    case 'REVERT':
    case 'REVERT-REQUEST':
      return { kind: 'revert-request', reason: arg || undefined };
    case 'IDLE-RESET':
    case 'IDLE': {
      const seconds = arg ? Number(arg) : 0;
      return { kind: 'idle-reset', idleSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : 0 };
    }
    default:
      return undefined;
  }
}
