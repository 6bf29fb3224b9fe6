/**
 * Public surface of `lab`: the real guest that tests and `vmsight lab` boot (lab-notes.md,
 * "Recommended way for the project's tests to boot a real guest").
 */
export { ensureLabBuilt, type EnsureLabBuiltOptions, type LabArtifacts } from './lab-builder.js';
export { startLabVm, type LabVmOptions } from './lab-vm.js';
export type { LabVm } from './running-lab-vm.js';
export { GUEST_DONE_MARKER, GUEST_READY_MARKER } from './guest-init-script.js';
export { LAB_HOST_PACKAGES, labInstallCommand, requireHostTools } from './host-tools.js';
export { labPaths, vmsightHome } from './lab-paths.js';
export { parseMemorySize } from './memory-size.js';
export { stopLabVmProcess, type StopResult } from './vm-stopper.js';
export { isVmProcessAlive, listVmStates, readVmState, type LabVmState } from './vm-state.js';
export {
  relaunchLabVmWith,
  type MigrationFigures,
  type RelaunchOptions,
  type RelaunchedLabVm,
} from './lab-vm-relaunch.js';
