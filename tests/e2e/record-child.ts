/**
 * Runs a recording in a separate process for the tests that need one: SIGINT handling
 * and a PATH without ffmpeg. Prints JSON lines on stdout.
 * Usage: node --import tsx record-child.ts <sigint|noffmpeg> <outDir>
 */
import { Recorder } from '../../src/record/index.js';
import { SyntheticSource } from './record-synthetic.js';

const [mode, dir] = process.argv.slice(2);
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const src = new SyntheticSource(320, 200);
const rec = new Recorder(src);

try {
  await rec.start(`${dir}/child.mp4`);
  say({ started: true, pid: rec.ffmpegPid, node: process.pid });
  // Keep changing until killed by the parent's SIGINT.
  let phase = 0;
  setInterval(() => src.setPhase(++phase % 8), 250);
} catch (err) {
  const e = err as { code?: string; message: string; hint?: string; name: string };
  say({ error: { code: e.code, name: e.name, message: e.message, hint: e.hint } });
  process.exitCode = mode === 'noffmpeg' ? 0 : 1;
}
