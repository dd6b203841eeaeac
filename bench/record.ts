import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { probeVideo } from '../src/record/index.js';
import { startDemo, type Vm } from '../src/index.js';
import { vlcCommand } from './references.js';
import { cpuSeconds, median, table } from './stats.js';

const SECONDS = 20;
/** Where both videos are compared for sharpness: the same moment of the same activity. */
const STILL_AT = 12;

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

/** One recording's figures. */
interface Run {
  fps: number;
  durationSec: number;
  wallSec: number;
  cpuSec: number;
  sizeBytes: number;
  dropped?: number;
  path?: string;
}

async function recordWithVlc(vm: Vm, out: string): Promise<Run & { nodeBaseline: number }> {
  await rm(out, { force: true });
  await execa('sh', ['-c', `touch ${out} && chmod 666 ${out}`]);
  const endpoint = vm.vncEndpoint;
  if (!('port' in endpoint)) throw new Error('VLC needs the VM on TCP (DEMOTOOL_VNC_TCP=1)');
  const sout = `#transcode{vcodec=h264,vb=2000}:std{access=file,mux=mp4,dst=${out}}`;
  const vlc = execa(...vlcCommand(['-q', `vnc://127.0.0.1:${endpoint.port}`, '--rfb-fps=30', '--sout', sout]), { reject: false, all: true });
  await new Promise((r) => setTimeout(r, 1500)); // let VLC connect before the activity starts
  if (vlc.exitCode !== null) throw new Error(`VLC exited at once:\n${(await vlc).all}`);
  // As root, VLC runs under runuser: its child is VLC.
  const child = Number((await execa('pgrep', ['-P', String(vlc.pid)], { reject: false })).stdout.split('\n')[0]);
  const pid = child || vlc.pid!;
  const nodeBefore = cpuSeconds('self');
  const wall = await activity(vm);
  const cpuSec = cpuSeconds(pid);
  const nodeBaseline = cpuSeconds('self') - nodeBefore;
  process.kill(pid, 'SIGINT');
  await vlc;
  const probe = await probeVideo(out);
  const frames = probe.frames ?? probe.fps * probe.durationSec;
  return { fps: frames / probe.durationSec, durationSec: probe.durationSec, wallSec: wall + 1.5, cpuSec, sizeBytes: readFileSync(out).length, nodeBaseline };
}

async function recordWithUs(vm: Vm, name: string, nodeBaseline: number): Promise<Run> {
  const before = cpuSeconds('self');
  const r = await vm.record(name, async () => void (await activity(vm)));
  // Node's own share (the mirror, the activity) is what it spends without recording too.
  const cpuSec = cpuSeconds('self') - before - nodeBaseline;
  return {
    fps: r.frames / r.durationSec,
    durationSec: r.durationSec,
    wallSec: r.wallSec,
    cpuSec,
    sizeBytes: r.sizeBytes,
    dropped: r.droppedFrames,
    path: r.path,
  };
}

/** The picture at STILL_AT seconds, for looking at the text side by side. */
async function still(video: string): Promise<string> {
  const png = video.replace(/\.[^.]+$/, `-at-${STILL_AT}s.png`);
  await execa('ffmpeg', ['-v', 'error', '-y', '-ss', String(STILL_AT), '-i', video, '-frames:v', '1', png]);
  return png;
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

/** A run's figures, as numbers: fps, duration error %, CPU s per video and per wall minute, KB, dropped. */
function figures(r: Run): number[] {
  return [
    r.fps,
    ((r.durationSec - r.wallSec) / r.wallSec) * 100,
    r.cpuSec / (r.durationSec / 60),
    r.cpuSec / (r.wallSec / 60),
    r.sizeBytes / 1024,
    r.dropped ?? NaN,
  ];
}

/** Each figure's own median over the runs. */
function medians(runs: Run[]): number[] {
  const all = runs.map(figures);
  return (all[0] ?? []).map((_, i) => median(all.map((f) => f[i] ?? NaN)));
}

function row(name: string, run: string, [fps, error, perVideo, perWall, kb, dropped]: number[]): string[] {
  const n = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
  return [name, run, n(fps), `${n(error)}%`, n(perVideo), n(perWall), `${n(kb, 0)} KB`, n(dropped, 0)];
}

const VLC = 'VLC vnc:// (original design)';
const OURS = 'demotool (mirror → I420 → ffmpeg)';

async function benchRecordOverTcp(): Promise<void> {
  const rounds = Math.max(1, Number(process.env.BENCH_RECORD_RUNS ?? 3));
  await startDemo('bench-record', { outputDir: 'bench-results', joinSections: false }, (demo) =>
    demo.vm('debian-12-desktop', async (vm) => {
      await vm.mouse.click(300, 200);
      await demo.ensureDirectory();
      const load = [loadavg()[0]!];
      const vlc: Run[] = [];
      const ours: Run[] = [];
      const files = { vlc: '', ours: '' };
      // Interleaved, the order alternating, so the machine's other load falls on both alike.
      // Node's own CPU without recording (the mirror, the activity) is measured in VLC's runs.
      const baselines: number[] = [];
      const vlcRun = async (i: number) => {
        files.vlc = `${demo.directory}/vlc-${i + 1}.mp4`;
        const { nodeBaseline, ...v } = await recordWithVlc(vm, files.vlc);
        baselines.push(nodeBaseline);
        vlc.push(v);
      };
      for (let i = 0; i < rounds; i++) {
        if (i % 2 === 0) await vlcRun(i);
        const o = await recordWithUs(vm, `ours-${i + 1}`, baselines.at(-1) ?? 0);
        ours.push(o);
        files.ours = o.path ?? '';
        if (i % 2 === 1) await vlcRun(i);
        load.push(loadavg()[0]!);
      }
      const header = [
        'recorder',
        'run',
        'effective fps',
        'duration error vs wall',
        'CPU s per video minute',
        'CPU s per wall minute',
        'file size',
        'new pictures dropped',
      ];
      table(
        `Recording ${SECONDS} s of typing and pointer motion, ${vm.image.name} 1280x800: each run (interleaved, load average ${load.map((l) => l.toFixed(2)).join(' → ')} on ${cpus().length} cores)`,
        header,
        vlc.flatMap((v, i) => [row(VLC, String(i + 1), figures(v)), row(OURS, String(i + 1), figures(ours[i]!))]),
      );
      const mv = medians(vlc);
      const mo = medians(ours);
      table(`Recording, median of ${rounds} runs each`, header, [row(VLC, 'median', mv), row(OURS, 'median', mo)]);
      const perRun = ours.map((o, i) => (figures(o)[2]! / figures(vlc[i]!)[2]!).toFixed(2));
      console.log(`CPU per video minute, demotool/VLC: ${(mo[2]! / mv[2]!).toFixed(2)} (medians; per run: ${perRun.join(', ')})`);
      console.log(`The same moment (${STILL_AT} s) from both, to compare the text: ${await still(files.vlc)}  ${await still(files.ours)}`);
    }),
  );
}
