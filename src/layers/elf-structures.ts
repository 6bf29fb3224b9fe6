import type { FieldTable } from './field-table.js';

/**
 * ELF64 structures as field tables (System V gABI, "ELF Header", "Program Header", "Sections",
 * "Note Section"). Only little-endian ELFCLASS64 cores are read: what QEMU writes for x86-64.
 */
export const ELF64_HEADER = {
  e_type: { offset: 16, width: 2 },
  e_machine: { offset: 18, width: 2 },
  e_version: { offset: 20, width: 4 },
  e_phoff: { offset: 32, width: 8 },
  e_shoff: { offset: 40, width: 8 },
  e_ehsize: { offset: 52, width: 2 },
  e_phentsize: { offset: 54, width: 2 },
  e_phnum: { offset: 56, width: 2 },
  e_shentsize: { offset: 58, width: 2 },
  e_shnum: { offset: 60, width: 2 },
} as const satisfies FieldTable;

export const ELF64_HEADER_SIZE = 64;

export const ELF64_PROGRAM_HEADER = {
  p_type: { offset: 0, width: 4 },
  p_flags: { offset: 4, width: 4 },
  p_offset: { offset: 8, width: 8 },
  p_vaddr: { offset: 16, width: 8 },
  p_paddr: { offset: 24, width: 8 },
  p_filesz: { offset: 32, width: 8 },
  p_memsz: { offset: 40, width: 8 },
} as const satisfies FieldTable;

export const ELF64_PROGRAM_HEADER_SIZE = 56;

/** Only section header 0 matters in a core: it carries the real counts (gABI "Extended numbering"). */
export const ELF64_SECTION_HEADER = {
  sh_size: { offset: 32, width: 8 },
  sh_link: { offset: 40, width: 4 },
  sh_info: { offset: 44, width: 4 },
} as const satisfies FieldTable;

export const ELF64_SECTION_HEADER_SIZE = 64;

/** e_ident: "\x7fELF", EI_CLASS=2 (64-bit), EI_DATA=1 (little-endian), EI_VERSION=1. */
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ET_CORE = 4;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
/** e_phnum value meaning "the count is in section header 0's sh_info" (gABI). */
export const PN_XNUM = 0xffff;
