import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { concatList } from './encoding.js';
import { batchTimeout, runFfmpeg } from './ffmpeg-run.js';
import { tempSibling } from './finalize.js';
import { lockOutput } from './output-lock.js';
import { ffprobe, probeVideo, type VideoInfo } from './probe.js';

export interface Chapter {
  title: string;
  startMs: number;
  endMs: number;
}

/**
 * A value for FFMETADATA1: '=', ';', '#', '\\' and both line ends ('\n', '\r') escaped, NUL
 * dropped. ffmpeg's reader takes an escaped '\\' at the end of a line for a line continuation, so a
 * title that ends in '\\' gets a space after it.
 */
export function escapeMetadata(s: string): string {
  return s
    .replace(/\0/g, '')
    .replace(/[=;#\\\n\r]/g, (c) => `\\${c}`)
    .replace(/\\\\$/, '\\\\ ');
}

/** FFMETADATA1 text: one [CHAPTER] per section, times in ms. */
export function chapterMetadata(chapters: Chapter[]): string {
  const escape = escapeMetadata;
  const blocks = chapters.map((c) =>
    ['[CHAPTER]', 'TIMEBASE=1/1000', `START=${Math.round(c.startMs)}`, `END=${Math.round(c.endMs)}`, `title=${escape(c.title)}`].join('\n'),
  );
  return [';FFMETADATA1', ...blocks].join('\n') + '\n';
}

/** Chapters laid end to end from the sections' durations. */
export function chaptersFor(sections: { title: string; durationSec: number }[]): Chapter[] {
  let at = 0;
  return sections.map((s) => {
    const startMs = Math.round(at * 1000);
    at += s.durationSec;
    return { title: s.title, startMs, endMs: Math.round(at * 1000) };
  });
}

/** The codec's setup bytes (H.264 SPS/PPS...): a stream copy is only safe when they match. */
async function extradataHash(path: string): Promise<string> {
  const stdout = await ffprobe(
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=extradata_hash', '-show_data_hash', 'md5', '-of', 'csv=p=0', path],
    `ffprobe reading ${path}`,
  );
  return stdout.trim();
}

async function sameParameters(paths: string[], a: VideoInfo, infos: VideoInfo[]): Promise<boolean> {
  const alike = infos.every(
    (b) => b.codec === a.codec && b.width === a.width && b.height === a.height && b.pixFmt === a.pixFmt && Math.abs(b.fps - a.fps) < 0.01,
  );
  if (!alike) return false;
  const hashes = await Promise.all(paths.map(extradataHash));
  return hashes.every((h) => h === hashes[0]);
}

function encoderFor(ext: string): string[] {
  if (ext === '.webm') return ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-b:v', '2M', '-pix_fmt', 'yuv420p'];
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2M', '-pix_fmt', 'yuv420p'];
}

/** Re-encode: every section scaled/padded to the first one's size and rate. */
function reencodeOptions(first: VideoInfo, infos: VideoInfo[], ext: string, metaInput: number): string[] {
  const { width: w, height: h, fps } = first;
  const chains = infos.map(
    (_, i) => `[${i}:v]scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${fps},format=yuv420p[v${i}]`,
  );
  const inputs = infos.map((_, i) => `[v${i}]`).join('');
  return [
    '-filter_complex',
    `${chains.join(';')};${inputs}concat=n=${infos.length}:v=1:a=0[out]`,
    '-map',
    '[out]',
    '-map_metadata',
    String(metaInput),
    '-map_chapters',
    String(metaInput),
    ...encoderFor(ext),
    ...(ext === '.webm' ? [] : ['-movflags', '+faststart']),
  ];
}

/** Joins sections in order into one file with chapter markers named after the sections. */
export async function joinSections(sections: { path: string; title: string }[], outputPath: string): Promise<string> {
  if (!sections.length) throw new UsageError('joinSections needs at least one section');
  const ext = extname(outputPath).toLowerCase();
  if (ext === '.gif') throw new UsageError('joinSections cannot write chapters into a gif', 'join into .mp4, .mkv or .webm');
  const probed = await Promise.all(sections.map(async (s) => ({ ...s, info: await probeVideo(s.path) })));
  const infos = probed.map((s) => s.info);
  const first = infos[0]!; // sections is not empty
  const tag = randomBytes(3).toString('hex');
  const meta = tempSibling(outputPath, `${tag}.chapters.txt`);
  const list = tempSibling(outputPath, `${tag}.join.txt`);
  const tmp = tempSibling(outputPath, `${tag}.tmp${ext}`);
  const timeoutMs = batchTimeout(infos.reduce((sum, i) => sum + i.durationSec, 0));
  // The joined file is written like a recording: one writer at a time.
  const lock = await lockOutput(resolve(outputPath));
  try {
    await writeFile(meta, chapterMetadata(chaptersFor(probed.map((s) => ({ title: s.title, durationSec: s.info.durationSec })))));
    if (
      await sameParameters(
        sections.map((s) => s.path),
        first,
        infos,
      )
    ) {
      await writeFile(list, concatList(sections.map((s) => ({ path: s.path }))));
      await runFfmpeg({
        inputs: [{ path: list, options: ['-f', 'concat', '-safe', '0'] }, { path: meta }],
        output: tmp,
        timeoutMs,
        outputOptions: [
          '-map',
          '0:v',
          '-map_metadata',
          '1',
          '-map_chapters',
          '1',
          '-c',
          'copy',
          ...(ext === '.webm' || ext === '.mkv' ? [] : ['-movflags', '+faststart']),
        ],
      });
    } else {
      await runFfmpeg({
        inputs: [...sections.map((s) => ({ path: s.path })), { path: meta }],
        output: tmp,
        timeoutMs,
        outputOptions: reencodeOptions(first, infos, ext, sections.length),
      });
    }
    await rename(tmp, outputPath);
  } finally {
    await Promise.all([meta, list, tmp].map((p) => rm(p, { force: true })));
    await lock.release();
  }
  return outputPath;
}
