import { stat } from 'node:fs/promises';
import type { Size } from '../geometry.js';
import { OutputFileError } from './errors.js';
import { probeVideo } from './probe.js';
import type { FrameCounts } from './schedule.js';

/** What a finished recording made, as measured from the file. */
export interface RecordingResult {
  path: string;
  section: string;
  format: string;
  /** From ffprobe. */
  durationSec: number;
  /** Measured wall-clock duration of the section. */
  wallSec: number;
  frames: number;
  duplicatedFrames: number;
  droppedFrames: number;
  sizeBytes: number;
  fps: number;
  width: number;
  height: number;
  /** >1 if ffmpeg was restarted mid-section. */
  segments: number;
  posterPath?: string;
}

/** Smaller than this, a video file holds no picture. */
const MIN_VIDEO_BYTES = 1024;

function sectionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export interface Recorded {
  path: string;
  format: string;
  fps: number;
  /** The video's size, as encoded. */
  size: Size;
  frames: number;
  counts: Readonly<FrameCounts>;
  wallSec: number;
  segments: number;
  posterPath?: string;
  /** The recording already failed, or ffmpeg was cut off: report what the file is, without judging it. */
  failed: boolean;
}

/**
 * The finished video checked against what was recorded: big enough, readable, and as long,
 * fast and large as intended ("as long": the frames sent to ffmpeg, not the time asked for).
 * OutputFileError otherwise (unless the recording had failed or was cut off).
 */
export async function checkRecording(r: Recorded): Promise<RecordingResult> {
  const { path, fps } = r;
  const sizeBytes = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (sizeBytes <= MIN_VIDEO_BYTES) throw new OutputFileError(path, `the video ${path} is missing or too small (${sizeBytes} bytes)`);
  const info = await probeVideo(path);
  const expected = r.frames / fps;
  const problems: string[] = [];
  if (Math.abs(info.durationSec - expected) > Math.max(0.02 * expected, 0.2))
    problems.push(`duration ${info.durationSec}s, expected ${expected.toFixed(3)}s (${r.frames} frames sent)`);
  if (r.format !== 'gif' && Math.abs(info.fps - fps) > 0.01 * fps) problems.push(`${info.fps} fps, expected ${fps}`);
  if (info.width !== r.size.width || info.height !== r.size.height) problems.push(`${info.width}x${info.height}, expected ${r.size.width}x${r.size.height}`);
  if (problems.length && !r.failed) {
    throw new OutputFileError(path, `the video ${path} is not as recorded: ${problems.join('; ')}`, {
      hint: 'this is a demotool bug or a broken ffmpeg; keep the file and report it',
    });
  }
  return {
    path,
    section: sectionOf(path),
    format: r.format,
    durationSec: info.durationSec,
    wallSec: r.wallSec,
    frames: r.frames,
    duplicatedFrames: r.counts.duplicated,
    droppedFrames: r.counts.dropped,
    sizeBytes,
    fps,
    width: info.width,
    height: info.height,
    segments: r.segments,
    ...(r.posterPath ? { posterPath: r.posterPath } : {}),
  };
}
