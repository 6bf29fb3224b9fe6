import { VmsightError } from '../core/index.js';
import { readFields, tableSize, type Fields } from './field-table.js';

/** Registers of `struct user_regs_struct` (x86-64), in their order inside `pr_reg`. */
const USER_REGS = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi',
  'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const; // prettier-ignore

/** Offset of `pr_reg` in x86-64 `struct elf_prstatus` (Linux include/linux/elfcore.h). */
const PR_REG_OFFSET = 112;

type PrStatusTable = { readonly pr_pid: { readonly offset: number; readonly width: 4 } } & {
  readonly [K in (typeof USER_REGS)[number]]: { readonly offset: number; readonly width: 8 };
};

/** NT_PRSTATUS (type 1, name "CORE") on x86-64: `pr_pid` and the 27 saved registers. */
export const PRSTATUS_X86_64: PrStatusTable = {
  pr_pid: { offset: 32, width: 4 },
  ...Object.fromEntries(
    USER_REGS.map((name, index) => [name, { offset: PR_REG_OFFSET + index * 8, width: 8 }]),
  ),
} as PrStatusTable;

export const NT_PRSTATUS = 1;

export type PrStatus = Fields<typeof PRSTATUS_X86_64>;

export function parsePrStatus(desc: Uint8Array): PrStatus {
  const size = tableSize(PRSTATUS_X86_64);
  if (desc.length < size) {
    throw new VmsightError(
      'TRUNCATED_INPUT',
      `NT_PRSTATUS note holds ${desc.length} bytes: at least ${size} are needed`,
    );
  }
  return readFields(desc, PRSTATUS_X86_64);
}
