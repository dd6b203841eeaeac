/**
 * How busy the guest's vCPUs are, from the host: the share of the last moment each vCPU thread ran
 * or waited to run (/proc/<tid>/schedstat). A guest with nothing to do halts its vCPUs, and QEMU's
 * threads sleep; one behind on its work keeps them busy. Typing reads this to tell a guest that
 * takes keys from its keyboard faster than its programs handle them (a desktop's X server and
 * xterm, under TCG): its kernel empties the keyboard's ring at once, and the keys then overflow
 * the 64 events evdev holds for the X server, with nothing on the host to see it.
 */
import { readFile } from 'node:fs/promises';
import type { QemuMonitor } from './qemu-monitor.js';

/** The moment the share is taken over: long enough to see past a timer tick, short enough to follow the guest. */
const WINDOW_MS = 100;
/** A share over less than this tells nothing yet. */
const MIN_SPAN_MS = 30;

interface Sample {
  at: number;
  /** Per vCPU thread: nanoseconds run plus waited to run, so far. */
  busyNs: number[];
}

export class VcpuLoad {
  private threads?: { generation: number; ids: number[] };
  private samples: Sample[] = [];

  constructor(private readonly monitor: QemuMonitor) {}

  /**
   * The busiest vCPU's share (0–1) of the last WINDOW_MS that it ran or waited to run; undefined
   * until two readings MIN_SPAN_MS apart with none more than WINDOW_MS apart, or where the host
   * can't tell (no schedstat, QEMU elsewhere).
   */
  async busy(): Promise<number | undefined> {
    const ids = await this.threadIds();
    const busyNs = await Promise.all(ids.map(readBusyNs));
    if (busyNs.some((n) => n === undefined)) return this.reset();
    const now: Sample = { at: performance.now(), busyNs: busyNs as number[] };
    // Readings from before a pause (typing stopped, then went on) would average a busy guest of
    // now with an idle one of then: 12 characters were lost typing into a guest that had just started cat.
    if (now.at - (this.samples.at(-1)?.at ?? -Infinity) > WINDOW_MS) this.samples = [];
    this.samples.push(now);
    while (this.samples.length > 2 && this.samples[1]!.at <= now.at - WINDOW_MS) this.samples.shift();
    const from = this.samples[0]!;
    const span = now.at - from.at;
    if (span < MIN_SPAN_MS) return undefined;
    return Math.max(...now.busyNs.map((n, i) => (n - from.busyNs[i]!) / 1e6 / span));
  }

  /** The vCPU threads of the QEMU the monitor speaks to now, asked once per QEMU. */
  private async threadIds(): Promise<number[]> {
    const generation = this.monitor.generation;
    if (this.threads?.generation !== generation) {
      this.samples = [];
      const cpus = await this.monitor.execute<{ 'thread-id': number }[]>('query-cpus-fast');
      this.threads = { generation, ids: cpus.map((c) => c['thread-id']) };
    }
    return this.threads.ids;
  }

  private reset(): undefined {
    this.samples = [];
    return undefined;
  }
}

async function readBusyNs(tid: number): Promise<number | undefined> {
  try {
    const [ran, waited] = (await readFile(`/proc/${tid}/schedstat`, 'utf8')).split(' ').map(Number);
    return Number.isFinite(ran) && Number.isFinite(waited) ? ran! + waited! : undefined;
  } catch {
    return undefined;
  }
}
