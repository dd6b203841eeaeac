/** The public API: demo sessions and the VM object. */
export { startDemo, recordDemo } from './start-demo.js';
export { DemoSession, type DemoOptions } from './session.js';
export type { VmOptions, HardwareChoice } from './vm-options.js';
export type { StartKind } from './warm-start.js';
export { Vm, type VmOwner, type WaitOptions } from './vm.js';
export { backendsOf, type VmBackends } from './vm-backends.js';
export type { SerialLog } from './serial.js';
export type { VmKeyboard, VmMouse } from './input.js';
export type { GuestMonitors } from './guest-monitors.js';
export type { GuestChannels } from './guest-channels.js';
export type { GuestApiAddress } from './boot-request.js';
export type { ReadyOptions, ReadyStrategy } from './readiness.js';
export type { StepRunner, CallSite } from './steps.js';
export { BootError } from './boot-failure.js';
export { MissingAwaitError } from './pending-actions.js';
export { GuestAgentError, type ExecResult, type ExecOptions } from './guest-agent.js';
