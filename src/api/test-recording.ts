import { Recorder, type RecordOptions, type RecordingResult } from '../record/index.js';
import type { FrameSource } from '../frames.js';
import { createLogger, type Logger } from '../log.js';

/** A recording in progress; stop() finishes and checks the file. */
export interface Recording {
  readonly path: string;
  stop(): Promise<RecordingResult>;
}

/** What a whole-test recording reads: a VM's VNC mirror. */
export interface RecordableVm {
  readonly name: string;
  readonly vnc: FrameSource;
}

/**
 * Records the VM's screen into `path` until stop() — for a whole test (the Playwright
 * fixtures' `video` option), unlike vm.record(), which records one body as a demo section
 * and adds it to the demo. The file is not part of the demo's joined video.
 */
export async function startRecording(vm: RecordableVm, path: string, options: RecordOptions & { log?: Logger } = {}): Promise<Recording> {
  const log = options.log ?? createLogger(`record:${vm.name}`);
  const recorder = new Recorder(vm.vnc, { poster: false, ...options, log });
  await recorder.start(path);
  return {
    path,
    stop: () => recorder.stop(),
  };
}
