/** Helpers for the recorder's e2e tests: pull frames out of videos, look for leftover ffmpeg. */
import { execa } from 'execa';
import { PALETTE } from './record-synthetic.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Sleeps until `ms` after `origin` (performance.now() clock). */
export const sleepUntil = (origin: number, ms: number) => sleep(origin + ms - performance.now());

/** One decoded frame at `sec` as packed RGB. */
export async function frameAt(video: string, sec: number): Promise<{ width: number; height: number; rgb: Buffer }> {
  const probe = await execa('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', video]);
  const [width = 0, height = 0] = probe.stdout.trim().split(',').map(Number);
  const { stdout } = await execa(
    'ffmpeg',
    ['-v', 'error', '-ss', String(sec), '-i', video, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer' },
  );
  return { width, height, rgb: Buffer.from(stdout) };
}

/** Writes the frame at `sec` as PNG (to look at it). */
export async function framePng(video: string, sec: number, png: string): Promise<void> {
  await execa('ffmpeg', ['-v', 'error', '-y', '-ss', String(sec), '-i', video, '-frames:v', '1', png]);
}

export function rgbAt(f: { width: number; rgb: Buffer }, x: number, y: number): [number, number, number] {
  const i = (y * f.width + x) * 3;
  return [f.rgb[i] ?? NaN, f.rgb[i + 1] ?? NaN, f.rgb[i + 2] ?? NaN];
}

export function distance(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - (b[i] ?? NaN))));
}

/** Which phase's left-half colour this pixel is (nearest palette entry). */
export function phaseOf(rgb: number[]): number {
  let best = 0;
  PALETTE.forEach((c, i) => {
    if (distance(c, rgb) < distance(PALETTE[best]!, rgb)) best = i;
  });
  return best;
}

/** ffmpeg must decode the whole file without a single error. */
export async function decodeErrors(video: string): Promise<string> {
  const { stderr } = await execa('ffmpeg', ['-v', 'error', '-i', video, '-f', 'null', '-']);
  return stderr.trim();
}

/** ffmpeg processes that are children of this test worker. */
export async function ffmpegChildren(): Promise<number[]> {
  const r = await execa('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { reject: false });
  return r.stdout.trim() ? r.stdout.trim().split('\n').map(Number) : [];
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
