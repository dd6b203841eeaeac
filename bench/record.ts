import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { probeVideo } from '../src/record/index.js';
import { startDemo, type Vm } from '../src/index.js';
import { table } from './stats.js';

const SECONDS = 20;
const TICKS = 100; // USER_HZ: /proc counts CPU time in 1/100 s on Linux

/** CPU seconds of a process (own + reaped children), from /proc. */
function cpuSeconds(pid: number | 'self'): number {
  const f = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
}

/** The same scripted activity for both recorders: typing into the xterm and pointer motion. */
async function activity(vm: Vm): Promise<number> {
  const t = performance.now();
  let i = 0;
  while (performance.now() - t < SECONDS * 1000) {
    await vm.mouse.move(200 + ((i * 137) % 900), 150 + ((i * 89) % 500), { duration: 400 });
    await vm.keyboard.type(`echo step ${i++} of the bench activity\n`, { delay: 30 });
  }
  return (performance.now() - t) / 1000;
}

async function recordWithVlc(vm: Vm, out: string) {
  await rm(out, { force: true });
  await execa('sh', ['-c', `touch ${out} && chmod 666 ${out}`]);
  const endpoint = vm.vncEndpoint;
  if (!('port' in endpoint)) throw new Error('VLC needs the VM on TCP (DEMOTOOL_VNC_TCP=1)');
  const vlc = execa(
    'runuser',
    [
      '-u',
      'nobody',
      '--',
      'cvlc',
      '-q',
      `vnc://127.0.0.1:${endpoint.port}`,
      '--rfb-fps=30',
      '--sout',
      `#transcode{vcodec=h264,vb=2000}:std{access=file,mux=mp4,dst=${out}}`,
    ],
    { reject: false, all: true },
  );
  await new Promise((r) => setTimeout(r, 1500)); // let VLC connect before the activity starts
  const pid = Number((await execa('pgrep', ['-P', String(vlc.pid)], { reject: false })).stdout.split('\n')[0]) || vlc.pid!;
  if (vlc.exitCode !== null) throw new Error(`VLC exited at once:\n${(await vlc).all}`);
  const nodeBefore = cpuSeconds('self');
  const wall = await activity(vm);
  const vlcCpu = cpuSeconds(pid);
  const nodeCpu = cpuSeconds('self') - nodeBefore;
  process.kill(pid, 'SIGINT');
  await vlc;
  return { wall: wall + 1.5, cpu: vlcCpu, nodeBaseline: nodeCpu };
}

export async function benchRecord(): Promise<void> {
  // VLC runs as nobody and speaks TCP only: opt in to the loopback TCP listener for this VM.
  const before = process.env.DEMOTOOL_VNC_TCP;
  process.env.DEMOTOOL_VNC_TCP = '1';
  try {
    await benchRecordOverTcp();
  } finally {
    if (before === undefined) delete process.env.DEMOTOOL_VNC_TCP;
    else process.env.DEMOTOOL_VNC_TCP = before;
  }
}

async function benchRecordOverTcp(): Promise<void> {
  await startDemo('bench-record', { outputDir: 'bench-results', joinSections: false }, (demo) =>
    demo.vm('debian-12-desktop', async (vm) => {
      await vm.mouse.click(300, 200);
      const vlcFile = `${demo.directory}/vlc.mp4`;
      await demo.ensureDirectory();
      const v = await recordWithVlc(vm, vlcFile);
      const vlcProbe = await probeVideo(vlcFile);
      const before = cpuSeconds('self');
      const ours = await vm.record('ours', async () => void (await activity(vm)));
      const oursCpu = cpuSeconds('self') - before - v.nodeBaseline;
      const row = (name: string, frames: number, dur: number, wall: number, cpu: number, size: number) => [
        name,
        (frames / dur).toFixed(1),
        `${(((dur - wall) / wall) * 100).toFixed(1)}%`,
        (cpu / (dur / 60)).toFixed(1),
        `${(size / 1024).toFixed(0)} KB`,
      ];
      const vlcFrames = vlcProbe.frames ?? vlcProbe.fps * vlcProbe.durationSec;
      table(
        `Recording ${SECONDS} s of typing and pointer motion, ${vm.image.name} 1280x800`,
        ['recorder', 'effective fps', 'duration error vs wall', 'CPU s per video minute', 'file size'],
        [
          row('VLC vnc:// (original design)', vlcFrames, vlcProbe.durationSec, v.wall, v.cpu, readFileSync(vlcFile).length),
          row('demotool (mirror → ffmpeg)', ours.frames, ours.durationSec, ours.wallSec, oursCpu, ours.sizeBytes),
        ],
      );
      console.log(`CPU ratio demotool/VLC: ${(oursCpu / ours.durationSec / (v.cpu / vlcProbe.durationSec)).toFixed(2)}`);
    }),
  );
}
