import { execa } from 'execa';
import { CommandTimeoutError } from '../errors.js';
import { defaultTimeout } from '../timeouts.js';
import { FFMPEG_HINT, OutputFileError } from './errors.js';

export interface VideoInfo {
  durationSec: number;
  fps: number;
  width: number;
  height: number;
  frames?: number;
  codec: string;
  pixFmt: string;
  chapters: { title: string; startSec: number; endSec: number }[];
}

function rate(r: string | undefined): number {
  const [n = 0, d = 0] = (r ?? '0/1').split('/').map(Number);
  return d ? n / d : 0;
}

interface ProbeJson {
  streams?: {
    codec_type?: string;
    codec_name?: string;
    pix_fmt?: string;
    width?: number;
    height?: number;
    r_frame_rate?: string;
    avg_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
  }[];
  format?: { duration?: string };
  chapters?: { start_time?: string; end_time?: string; tags?: { title?: string } }[];
}

/**
 * Runs ffprobe and returns its stdout; kills it (CommandTimeoutError) after the ffprobe
 * timeout. Other failures are execa's errors.
 */
export async function ffprobe(args: string[], what: string): Promise<string> {
  const timeoutMs = defaultTimeout('ffprobe');
  try {
    // Out of the terminal's process group, as ffmpeg: the check of a video finished after Ctrl-C must not fail.
    const { stdout } = await execa('ffprobe', args, { timeout: timeoutMs, killSignal: 'SIGKILL', detached: true });
    return stdout;
  } catch (err) {
    if ((err as { timedOut?: boolean }).timedOut) throw new CommandTimeoutError(what, timeoutMs, { cause: err });
    throw err;
  }
}

/** What ffprobe says about a video file: duration, rate, size, codec, chapters. */
export async function probeVideo(path: string): Promise<VideoInfo> {
  let json: ProbeJson;
  try {
    const stdout = await ffprobe(['-v', 'error', '-of', 'json', '-show_format', '-show_streams', '-show_chapters', path], `ffprobe reading ${path}`);
    json = JSON.parse(stdout) as ProbeJson;
  } catch (err) {
    if (err instanceof CommandTimeoutError) throw err;
    const e = err as { code?: string; stderr?: string; shortMessage?: string };
    const missing = e.code === 'ENOENT';
    throw new OutputFileError(path, missing ? 'ffprobe was not found' : `ffprobe cannot read ${path}: ${e.stderr || e.shortMessage}`, {
      hint: missing ? FFMPEG_HINT : 'the file is missing or not a finished video',
      cause: err,
    });
  }
  const video = json.streams?.find((s) => s.codec_type === 'video');
  if (!video) throw new OutputFileError(path, `${path} has no video stream`);
  const frames = video.nb_frames ? Number(video.nb_frames) : undefined;
  return {
    durationSec: Number(json.format?.duration ?? video.duration ?? 0),
    fps: rate(video.r_frame_rate) || rate(video.avg_frame_rate),
    width: video.width ?? 0,
    height: video.height ?? 0,
    ...(frames !== undefined && Number.isFinite(frames) ? { frames } : {}),
    codec: video.codec_name ?? '',
    pixFmt: video.pix_fmt ?? '',
    chapters: (json.chapters ?? []).map((c) => ({
      title: c.tags?.title ?? '',
      startSec: Number(c.start_time ?? 0),
      endSec: Number(c.end_time ?? 0),
    })),
  };
}
