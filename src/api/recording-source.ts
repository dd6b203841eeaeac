import type { FrameSource, InputEvent, InputSource } from '../frames.js';
import type { Keyboard, Mouse, VncClient } from '../vnc/index.js';

/** What the recorder reads from a VM: the VNC mirror's frames and pointer, and every key and click sent. */
export function recordingSource(vnc: VncClient, keyboard: Keyboard, mouse: Mouse): FrameSource & InputSource {
  return {
    frame: () => vnc.frame(),
    get version() {
      return vnc.version;
    },
    get pointer() {
      return vnc.pointer;
    },
    get cursor() {
      return vnc.cursor;
    },
    get connected() {
      return vnc.connected;
    },
    onInput: (listener: (e: InputEvent) => void) => {
      const offKey = keyboard.onKey((label) => listener({ type: 'key', label, at: performance.now() }));
      const offClick = mouse.onClick((e) => listener({ type: 'click', ...e, at: performance.now() }));
      return () => {
        offKey();
        offClick();
      };
    },
  };
}
