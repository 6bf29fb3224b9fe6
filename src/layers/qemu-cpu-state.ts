import { VmsightError } from '../core/index.js';
import { readFields, tableSize, type FieldTable, type Fields } from './field-table.js';

/**
 * QEMU's per-vCPU `QEMU` note in `dump-guest-memory` ELF files (`QEMUCPUState`, QEMU
 * target/i386/arch_dump.c): version, size, the general registers, ten segments of 24 bytes
 * (selector, limit, flags, pad, base), CR0-CR4, then optional fields appended without a version
 * change, detected from `size` (kernel_gs_base since QEMU 5.0).
 */
export const QEMU_CPU_STATE = {
  version: { offset: 0, width: 4 },
  size: { offset: 4, width: 4 },
  rax: { offset: 8, width: 8 },
  rbx: { offset: 16, width: 8 },
  rcx: { offset: 24, width: 8 },
  rdx: { offset: 32, width: 8 },
  rsi: { offset: 40, width: 8 },
  rdi: { offset: 48, width: 8 },
  rsp: { offset: 56, width: 8 },
  rbp: { offset: 64, width: 8 },
  r8: { offset: 72, width: 8 },
  r9: { offset: 80, width: 8 },
  r10: { offset: 88, width: 8 },
  r11: { offset: 96, width: 8 },
  r12: { offset: 104, width: 8 },
  r13: { offset: 112, width: 8 },
  r14: { offset: 120, width: 8 },
  r15: { offset: 128, width: 8 },
  rip: { offset: 136, width: 8 },
  rflags: { offset: 144, width: 8 },
  cs_selector: { offset: 152, width: 4 },
  cs_base: { offset: 168, width: 8 },
  ds_base: { offset: 192, width: 8 },
  es_base: { offset: 216, width: 8 },
  fs_base: { offset: 240, width: 8 },
  gs_base: { offset: 264, width: 8 },
  ss_base: { offset: 288, width: 8 },
  ldt_base: { offset: 312, width: 8 },
  tr_base: { offset: 336, width: 8 },
  gdt_limit: { offset: 348, width: 4 },
  gdt_base: { offset: 360, width: 8 },
  idt_limit: { offset: 372, width: 4 },
  idt_base: { offset: 384, width: 8 },
  cr0: { offset: 392, width: 8 },
  cr1: { offset: 400, width: 8 },
  cr2: { offset: 408, width: 8 },
  cr3: { offset: 416, width: 8 },
  cr4: { offset: 424, width: 8 },
} as const satisfies FieldTable;

const KERNEL_GS_BASE = { kernel_gs_base: { offset: 432, width: 8 } } as const satisfies FieldTable;

export type QemuCpuState = Fields<typeof QEMU_CPU_STATE> & {
  /** Absent from dumps of QEMU before 5.0 (the note's `size` says so). */
  readonly kernel_gs_base?: bigint;
};

/** Decodes one `QEMU` note descriptor. */
export function parseQemuCpuState(desc: Uint8Array): QemuCpuState {
  const base = tableSize(QEMU_CPU_STATE);
  if (desc.length < base) {
    throw new VmsightError(
      'TRUNCATED_INPUT',
      `QEMU CPU-state note holds ${desc.length} bytes: at least ${base} are needed`,
    );
  }
  const state = readFields(desc, QEMU_CPU_STATE);
  const declared = state.size;
  if (declared >= tableSize(KERNEL_GS_BASE) && desc.length >= tableSize(KERNEL_GS_BASE)) {
    return { ...state, kernel_gs_base: readFields(desc, KERNEL_GS_BASE).kernel_gs_base };
  }
  return state;
}
