/**
 * The screenshot PNG, written straight from the mirror: RGBA rows with PNG's "none" filter,
 * deflated by zlib at level 1. A screen is mostly flat colour, which level 1 packs almost as
 * small as sharp's level 3 in a fraction of the time, and building the scanlines is the only
 * copy of the mirror (issue 13: 6.7 ms a screenshot before, sharp's encoding most of it).
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Frame } from '../frames.js';
import type { Region } from '../geometry.js';

const deflateAsync = promisify(zlib.deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RGBA_8BIT = { bitDepth: 8, colourType: 6 };
/** The fastest level that compresses: a 1280x800 desktop in ~3 ms to ~50 KB (level 3 through sharp: ~6 ms, ~43 KB). */
const ZLIB = { level: 1 };

/**
 * The scanline buffer of the last screenshot, taken by the next one of the same size. A fresh
 * 4 MB buffer each time made V8 collect garbage often: p95 40 ms against 0.6 ms reused, under load.
 */
let spare: Buffer | undefined;

/** A lossless RGBA PNG of `region` of `frame` (the region already clipped to the frame). */
export async function screenPng(frame: Frame, region: Region): Promise<Buffer> {
  // The scanlines are our own copy: the mirror may change while zlib works in the thread pool.
  const rows = scanlines(frame, region);
  let idat: Buffer;
  try {
    idat = await deflateAsync(rows, ZLIB);
  } finally {
    spare = rows;
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', header(region)), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Each row of the region behind a filter-type byte 0 ("none"). */
function scanlines(frame: Frame, { x, y, width, height }: Region): Buffer {
  const rowBytes = width * 4;
  const size = (rowBytes + 1) * height;
  const out = spare?.length === size ? spare : Buffer.allocUnsafe(size);
  spare = undefined; // two screenshots at once: the second gets its own
  for (let row = 0; row < height; row++) {
    const at = row * (rowBytes + 1);
    const from = ((y + row) * frame.width + x) * 4;
    out[at] = 0;
    frame.rgba.copy(out, at + 1, from, from + rowBytes);
  }
  return out;
}

function header({ width, height }: Region): Buffer {
  const ihdr = Buffer.alloc(13); // compression, filter method and interlace stay 0
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = RGBA_8BIT.bitDepth;
  ihdr[9] = RGBA_8BIT.colourType;
  return ihdr;
}

/** zlib.crc32 came with Node 20.15; the package runs on 20.9. */
const crc32: (data: Buffer) => number = (zlib as { crc32?: (data: Buffer) => number }).crc32 ?? tableCrc32;

let crcTable: Uint32Array | undefined;

/** @internal exported for its test */
export function tableCrc32(data: Buffer): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Length, type, data and the CRC of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
