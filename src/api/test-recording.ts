import { Recorder, type RecordOptions, type RecordingResult } from '../record/index.js';
import { createLogger, type Logger } from '../log.js';
import { backendsOf } from './vm-backends.js';
import type { Vm } from './vm.js';

/** A recording in progress; stop() finishes and checks the file. */
export interface Recording {
  readonly path: string;
  stop(): Promise<RecordingResult>;
}

/**
 * Records the VM's screen into `path` until stop(): the Playwright fixtures' whole-test
 * `video`. Users record with vm.record(), which records one body as a section of the demo;
 * this file is not part of the demo's joined video.
 */
export async function startRecording(vm: Vm, path: string, options: RecordOptions & { log?: Logger } = {}): Promise<Recording> {
  const log = options.log ?? createLogger(`record:${vm.name}`);
  const recorder = new Recorder(backendsOf(vm).vnc, { poster: false, ...options, log });
  await recorder.start(path);
  return {
    path,
    stop: () => recorder.stop(),
  };
}
