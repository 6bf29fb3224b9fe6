/**
 * Public surface of `profiles`: from guest memory (live or dump) to a kernel profile: VMCOREINFO,
 * KASLR slide, kernel page tables, symbol table.
 */
export {
  describeProfile,
  openKernelProfile,
  type KernelProfile,
  type KernelProfileOptions,
} from './kernel-profile.js';
export {
  START_KERNEL_MAP,
  idtGateHandler,
  kernelImagePhysical,
  slideFromIdtGate,
} from './kaslr.js';
export { profileCacheKey, readCachedProfile, writeCachedProfile } from './profile-cache.js';
export {
  requireVmcoreinfo,
  scanVmcoreinfo,
  type VmcoreinfoScanOptions,
} from './vmcoreinfo-scanner.js';
export { openKernelProfileFromIdt, type CpuControlState } from './idt-profile.js';
