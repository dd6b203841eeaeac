/**
 * ffmpeg arguments, pure. Segments are written in crash-tolerant containers
 * (MPEG-TS for H.264, WebM for VP9) so a killed ffmpeg still leaves a readable
 * file; the final mp4/webm/gif is made from them at stop.
 */
export type VideoFormat = 'mp4' | 'webm' | 'gif';

export type Scale = number | { width: number; height: number };

export interface EncodingSpec {
  format: VideoFormat;
  fps: number;
  /** Size of the frames we feed (the first frame's size). */
  width: number;
  height: number;
  bitrate?: string | number;
  crf?: number;
  scale?: Scale;
}

export interface Geometry {
  width: number;
  height: number;
  filters: string[];
}

const even = (n: number) => Math.ceil(n / 2) * 2;

/** Output size and the scale/pad filters that produce it. 4:2:0 formats need even sizes: pad, never reject. */
export function outputGeometry(width: number, height: number, format: VideoFormat, scale?: Scale): Geometry {
  const filters: string[] = [];
  let w = width;
  let h = height;
  if (typeof scale === 'number' && scale !== 1) {
    w = Math.max(1, Math.round(width * scale));
    h = Math.max(1, Math.round(height * scale));
    filters.push(`scale=${w}:${h}:flags=lanczos`);
  } else if (typeof scale === 'object') {
    w = Math.round(scale.width);
    h = Math.round(scale.height);
    // Letterbox into the requested box, keeping the aspect ratio.
    filters.push(`scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=lanczos`, `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=black`);
  }
  if (format !== 'gif' && (w % 2 || h % 2)) {
    filters.push(`pad=${even(w)}:${even(h)}:0:0:color=black`);
    w = even(w);
    h = even(h);
  }
  return { width: w, height: h, filters };
}

export interface SegmentArgs {
  /** What we send ffmpeg: I420 converted in Node (changed rows only), or RGBA for ffmpeg to convert. */
  pixels: 'I420' | 'RGBA';
  inputOptions: string[];
  outputOptions: string[];
  /** Container of the segment files. */
  container: 'mpegts' | 'webm';
  ext: 'ts' | 'webm';
  geometry: Geometry;
}

function rateControl(spec: EncodingSpec, vp9: boolean): string[] {
  if (spec.crf !== undefined) return vp9 ? ['-crf', String(spec.crf), '-b:v', '0'] : ['-crf', String(spec.crf)];
  return ['-b:v', String(spec.bitrate ?? '2M')];
}

/** Encoder and rate-control options of a format (no filters). */
export function codecOptions(spec: EncodingSpec): string[] {
  const gop = String(Math.max(1, Math.round(spec.fps * 2)));
  if (spec.format === 'webm') {
    return ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-pix_fmt', 'yuv420p', '-g', gop, ...rateControl(spec, true)];
  }
  if (spec.format === 'gif') {
    // Lossless 4:4:4 intermediate: the palette is computed from it at stop.
    return ['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv444p', '-g', gop];
  }
  return ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', gop, ...rateControl(spec, false)];
}

/** Arguments for one segment's ffmpeg, reading our Matroska RGBA stream on stdin. */
export function segmentArgs(spec: EncodingSpec): SegmentArgs {
  const geometry = outputGeometry(spec.width, spec.height, spec.format, spec.scale);
  const pixFmt = spec.format === 'gif' ? 'yuv444p' : 'yuv420p';
  // Unscaled 4:2:0 video gets I420 from Node; scaling and the gif's 4:4:4 start from RGBA in ffmpeg.
  const pixels = pixFmt === 'yuv420p' && geometry.filters.length === 0 ? 'I420' : 'RGBA';
  // Scale and convert each picture we send once, then the fps filter places it in its exact
  // slot and repeats it (by reference) until the next: repeats cost no conversion.
  const vf = [...geometry.filters, ...(pixels === 'RGBA' ? [`format=${pixFmt}`] : []), `fps=${spec.fps}`].join(',');
  // Tiny probe: the Matroska header says everything, and the second frame may be seconds away.
  const inputOptions = ['-probesize', '32', '-analyzeduration', '0'];
  // flush_packets: each encoded frame goes to disk at once, so a killed ffmpeg leaves
  // everything it encoded in the (crash-tolerant) segment.
  const outputOptions = ['-vf', vf, '-an', '-flush_packets', '1', ...codecOptions(spec)];
  return spec.format === 'webm'
    ? { pixels, inputOptions, outputOptions, geometry, container: 'webm', ext: 'webm' }
    : { pixels, inputOptions, outputOptions, geometry, container: 'mpegts', ext: 'ts' };
}

/** Escapes a path for an ffmpeg concat list line. */
export function concatListLine(path: string): string {
  return `file '${path.replace(/'/g, "'\\''")}'`;
}

/** The concat demuxer script for segments; `durationSec` keeps each segment's true length. */
export function concatList(segments: { path: string; durationSec?: number }[]): string {
  return (
    segments.map((s) => [concatListLine(s.path), ...(s.durationSec !== undefined ? [`duration ${s.durationSec.toFixed(6)}`] : [])].join('\n')).join('\n') + '\n'
  );
}
