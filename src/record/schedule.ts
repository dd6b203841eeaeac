/**
 * Frame scheduling arithmetic, pure. Frame n belongs to the slot starting at
 * t0 + n/fps (monotonic ms). We never count timer ticks: a late tick simply finds
 * a larger due index, so the video's duration stays equal to wall-clock time.
 */

/** Index of the slot `now` falls in (the newest frame that is due). */
export function dueIndex(t0: number, now: number, fps: number): number {
  // The epsilon absorbs float error when now sits exactly on a slot boundary.
  return Math.floor(((now - t0) * fps) / 1000 + 1e-9);
}

/** When slot `index` starts. */
export function slotTime(t0: number, index: number, fps: number): number {
  return t0 + (index * 1000) / fps;
}

export interface TickInput {
  /** Last frame index already accounted for (-1 before the first frame). */
  lastIndex: number;
  /** dueIndex() now. */
  due: number;
  /** The picture differs from the last one sent. */
  changed: boolean;
  /** Still busy with an earlier frame (ffmpeg back-pressure or composing). */
  busy: boolean;
}

export interface TickPlan {
  /** The new lastIndex. */
  index: number;
  /** Send the current picture stamped with `index`. */
  send: boolean;
  /** Frames that repeat the previous picture: nothing changed, or a late timer caught up. */
  duplicated: number;
  /** Frames whose new picture could not be delivered because we were busy. */
  dropped: number;
}

/** What to do on a tick; null when no new frame is due yet. */
export function planTick({ lastIndex, due, changed, busy }: TickInput): TickPlan | null {
  if (due <= lastIndex) return null;
  const newFrames = due - lastIndex;
  if (busy) {
    return changed ? { index: due, send: false, duplicated: 0, dropped: newFrames } : { index: due, send: false, duplicated: newFrames, dropped: 0 };
  }
  // Frames between the last one and now were missed by a late timer: they repeat the old picture.
  const catchUp = newFrames - 1;
  return changed ? { index: due, send: true, duplicated: catchUp, dropped: 0 } : { index: due, send: false, duplicated: newFrames, dropped: 0 };
}

/**
 * Total frames of a section that ran from t0 to tEnd: the wall-clock duration in
 * frames, never fewer than already sent.
 */
export function totalFrames(t0: number, tEnd: number, fps: number, lastIndex: number): number {
  return Math.max(lastIndex + 1, Math.round(((tEnd - t0) * fps) / 1000), 1);
}

/** Counters kept by the recorder; frames = sent + duplicated + dropped. */
export interface FrameCounts {
  sent: number;
  duplicated: number;
  dropped: number;
}

export function applyPlan(counts: FrameCounts, plan: TickPlan): FrameCounts {
  return {
    sent: counts.sent + (plan.send ? 1 : 0),
    duplicated: counts.duplicated + plan.duplicated,
    dropped: counts.dropped + plan.dropped,
  };
}
