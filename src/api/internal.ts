/**
 * The API layer's second face, for demotool's own glue: the Playwright fixtures, the CLI and
 * `demotool/compat`. Not re-exported from the package root; users never need it.
 */
export { Vm } from './vm.js';
export { startRecording, type Recording } from './test-recording.js';
export { openViewer, viewerRequested, type Viewer } from './viewer.js';
export { runDir } from './state-directories.js';
export { decideAccel } from './accel.js';
export { importDomain, isDomainSpec } from './domain-source.js';
export { ExhibitVm, exhibitDirectory, type ExhibitVmFound } from './exhibit-vm.js';
export { hardwareChoiceSchema, vmOptionsSchema } from './vm-options.js';
export { demoOptionsSchema } from './demo-options.js';
export {
  compareScreenshots,
  maskScreenshot,
  boxesRelativeTo,
  validateCompareOptions,
  DEFAULT_THRESHOLD,
  type ScreenshotCompareOptions,
  type ScreenshotComparison,
  type MatchOptions,
  type ScreenMatch,
} from '../vnc/index.js';
