import type { LabArtifacts } from './lab-builder.js';

export interface QemuCommandInputs {
  readonly artifacts: LabArtifacts;
  readonly name: string;
  readonly memoryBytes: number;
  readonly ramPath: string;
  readonly qmpSocket: string;
  /** A second QMP monitor that vmsight keeps for itself (stop), so a user's client never blocks it. */
  readonly controlSocket: string;
  readonly serialPath: string;
  readonly kaslr: boolean;
  readonly la57: boolean;
  readonly accel: 'tcg' | 'kvm';
  readonly workloadPath?: string;
  readonly gdbPort?: number;
  readonly extraArgs?: readonly string[];
  /** `-device vmcoreinfo` (default true); false to test a guest whose dumps carry no VMCOREINFO. */
  readonly vmcoreinfoDevice?: boolean;
}

export const QEMU_BINARY = 'qemu-system-x86_64';

/**
 * The QEMU command line of a lab VM, per lab-notes "Recommended way for the project's tests to boot
 * a real guest":
 * - `-accel tcg` explicitly: the host's KVM is kvm_pvm, which cannot run a stock kernel, and
 *   `kvm:tcg` does not fall back.
 * - PVH `-kernel vmlinux` (~2 s to GUEST-READY, always 4-level paging, no KASLR) unless KASLR or
 *   5-level paging is asked for: both need the bzImage's decompressor (~5 s); `-cpu max` gives LA57.
 * - Guest RAM on a shared file backend sized like `-m`, so the host reads it at offset = physical
 *   address (§10); `-device vmcoreinfo` for VMCOREINFO in dumps (§3); `-vga none` keeps VRAM out
 *   of dumps.
 */
export function buildQemuArgs(inputs: QemuCommandInputs): string[] {
  const bootsBzImage = inputs.kaslr || inputs.la57;
  const cpu = inputs.accel === 'kvm' ? 'host' : inputs.la57 ? 'max' : 'max,la57=off';
  const append = ['console=ttyS0', 'panic=-1', 'quiet', ...(inputs.kaslr ? [] : ['nokaslr'])].join(
    ' ',
  );
  const mib = inputs.memoryBytes / 2 ** 20;
  return [
    '-name',
    `vmsight-${inputs.name}`,
    '-accel',
    inputs.accel,
    '-cpu',
    cpu,
    '-m',
    `${mib}M`,
    '-smp',
    '1',
    '-object',
    `memory-backend-file,id=ram0,size=${mib}M,mem-path=${inputs.ramPath},share=on`,
    '-machine',
    'memory-backend=ram0',
    '-no-reboot',
    '-vga',
    'none',
    '-display',
    'none',
    '-nic',
    'none',
    '-monitor',
    'none',
    '-serial',
    `file:${inputs.serialPath}`,
    '-qmp',
    `unix:${inputs.qmpSocket},server=on,wait=off`,
    '-qmp',
    `unix:${inputs.controlSocket},server=on,wait=off`,
    '-kernel',
    bootsBzImage ? inputs.artifacts.bzImage : inputs.artifacts.vmlinux,
    '-initrd',
    inputs.artifacts.initramfs,
    '-append',
    append,
    ...(inputs.vmcoreinfoDevice === false ? [] : ['-device', 'vmcoreinfo']),
    ...(inputs.workloadPath === undefined
      ? []
      : ['-fw_cfg', `name=opt/workload,file=${inputs.workloadPath}`]),
    ...(inputs.gdbPort === undefined ? [] : ['-gdb', `tcp:127.0.0.1:${inputs.gdbPort}`]),
    ...(inputs.extraArgs ?? []),
  ];
}
