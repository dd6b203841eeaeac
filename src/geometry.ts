/** Screen geometry shared by every layer, in screen pixels with the origin at the top left. */

/** A rectangle on the screen. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A position on the screen. */
export interface Point {
  x: number;
  y: number;
}

/** A screen or picture size. */
export interface Size {
  width: number;
  height: number;
}

/** A mouse button. */
export type MouseButton = 'left' | 'right' | 'middle';
