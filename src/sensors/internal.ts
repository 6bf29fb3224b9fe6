/**
 * Test support of `sensors` for other folders' tests and benchmarks (lint lets only those import
 * this; the build leaves it out): static guest programs injected with fw_cfg, and the syscall
 * census a completeness test checks.
 */
export {
  compileStatic,
  fwCfgArgs,
  fwCfgInstall,
  labTaskLayout,
  type StaticProgram,
} from './_sensor-lab-fixture.js';
export { syscallCensus, type SyscallCensus } from './_syscall-census.js';
export {
  PROBE_CALLS,
  SYSCALL_PROBE_SOURCE,
  getppidLoopSource,
  syscallProbeSource,
  type ProbeCalls,
} from './_syscall-programs.js';
export { startTcgCapture, type TcgCapture } from './_tcg-capture.js';
// The KVM boot-sector guest: its I/O sequence, builder and skip reason.
export * from './_kvm-io-guest-fixture.js';
