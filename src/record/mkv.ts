/**
 * A tiny Matroska writer for raw RGBA frames with explicit timestamps.
 *
 * Why: ffmpeg's rawvideo input only knows "frame n is at n/fps", so every repeated
 * picture would have to be re-sent (4 MB per frame at 1280x800). Wrapping frames in
 * Matroska lets us send a picture only when it changed, stamped with its true slot;
 * ffmpeg (`-fps_mode cfr`) repeats it until the next one. The element layout mirrors
 * what ffmpeg itself writes for `-c:v rawvideo -pix_fmt rgba` (V_UNCOMPRESSED + ColourSpace "RGBA");
 * ColourSpace "I420" carries yuv420p pictures the same way.
 */

/** The pixel layouts we send: ColourSpace FourCCs ffmpeg's raw video decoder knows. */
export type MkvPixels = 'RGBA' | 'I420';

/** Timestamps are in units of 100 µs: fine enough that every frame of any sane rate lands in its slot. */
export const MKV_TIMESCALE_NS = 100_000;
export const MKV_TICKS_PER_SECOND = 1e9 / MKV_TIMESCALE_NS;

const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** EBML variable-length size, always 8 bytes: simple and valid for any frame size. */
function size8(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(0x01, 0);
  b.writeUIntBE(n, 2, 6);
  return b;
}

function id(hex: number): Buffer {
  const bytes: number[] = [];
  for (let v = hex; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes);
}

function element(elementId: number, payload: Buffer): Buffer {
  return Buffer.concat([id(elementId), size8(payload.length), payload]);
}

function uint(elementId: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.round(value)));
  return element(elementId, b);
}

function str(elementId: number, value: string): Buffer {
  return element(elementId, Buffer.from(value, 'utf8'));
}

/** EBML header + Segment (unknown size, we stream) + Info + Tracks for one raw video track. */
export function mkvHeader(width: number, height: number, fps: number, pixels: MkvPixels = 'RGBA'): Buffer {
  const ebml = element(
    0x1a45dfa3,
    Buffer.concat([uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8), str(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2)]),
  );
  const info = element(0x1549a966, Buffer.concat([uint(0x2ad7b1, MKV_TIMESCALE_NS), str(0x4d80, 'demotool'), str(0x5741, 'demotool')]));
  const video = element(0xe0, Buffer.concat([uint(0xb0, width), uint(0xba, height), element(0x2eb524, Buffer.from(pixels, 'ascii'))]));
  const track = element(
    0xae,
    Buffer.concat([
      uint(0xd7, 1),
      uint(0x73c5, 1),
      uint(0x83, 1),
      str(0x86, 'V_UNCOMPRESSED'),
      uint(0x9c, 0),
      // DefaultDuration: one frame slot. Without it ffmpeg guesses a frame's duration from
      // the gaps between our (sparse) frames and stretches the last one.
      uint(0x23e383, 1e9 / fps),
      video,
    ]),
  );
  const tracks = element(0x1654ae6b, track);
  return Buffer.concat([ebml, id(0x18538067), UNKNOWN_SIZE, info, tracks]);
}

/**
 * Everything that precedes one frame's pixels: a Cluster holding its timestamp and a
 * SimpleBlock header. Write this, then the pixels (kept separate so the pixels are not copied).
 */
export function mkvFramePrefix(ticks: number, frameBytes: number): Buffer {
  const timecode = uint(0xe7, ticks);
  // SimpleBlock: track 1 (vint 0x81), relative timecode 0, flags keyframe.
  const blockHead = Buffer.from([0x81, 0x00, 0x00, 0x80]);
  const blockSize = blockHead.length + frameBytes;
  const simpleBlockHead = Buffer.concat([id(0xa3), size8(blockSize), blockHead]);
  const clusterSize = timecode.length + simpleBlockHead.length + frameBytes;
  return Buffer.concat([id(0x1f43b675), size8(clusterSize), timecode, simpleBlockHead]);
}

/** The Matroska timestamp of frame `index` at `fps`. */
export function frameTicks(index: number, fps: number): number {
  return Math.round((index * MKV_TICKS_PER_SECOND) / fps);
}
