/** One picture of the screen: tightly packed RGBA, width*height*4 bytes. */
export interface Frame {
  width: number;
  height: number;
  rgba: Buffer;
}

/** The guest's pointer shape, RGBA with alpha, and its hotspot. */
export interface CursorImage {
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  rgba: Buffer;
}

/**
 * What the recorder reads from. The VNC client implements it; the recorder never
 * talks VNC itself, so the video shows exactly what the test saw.
 */
export interface FrameSource {
  /** The current mirror of the screen. The buffer may be reused: copy what you keep. */
  frame(): Frame;
  /** Increments whenever the mirror changes (damage or resize). */
  readonly version: number;
  /** Where the pointer is now, in screen pixels. */
  readonly pointer: { x: number; y: number };
  /** The guest's cursor shape, when it sent one. */
  readonly cursor?: CursorImage;
  /** False while the connection is down (e.g. during a snapshot revert). */
  readonly connected: boolean;
}

/** Input the test sent, for the optional keycast and click-ring overlays. */
export type InputEvent = { type: 'key'; label: string; at: number } | { type: 'click'; x: number; y: number; button: 'left' | 'right' | 'middle'; at: number };

/** A FrameSource that can also tell the recorder about input (optional). */
export interface InputSource {
  onInput(listener: (event: InputEvent) => void): () => void;
}
