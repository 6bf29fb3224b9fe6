import { open } from 'node:fs/promises';
import { ByteReader, VmsightError } from '../core/index.js';
import { ELFCLASS64, ELFDATA2LSB } from './elf-structures.js';

/**
 * Just enough ELF64 little-endian (System V gABI, "ELF Header" and "Sections") to list a kernel
 * image's or module's sections and read one of them: the lab checks vmlinux for `.BTF` and reads a
 * module's `.modinfo` for its dependencies; symbols reads `.BTF`. (Core dumps, which need program
 * headers and notes, are read by `elf-core-layer.ts`.) Field offsets are the gABI's Elf64_Ehdr/Elf64_Shdr.
 */
const EHDR = {
  magic: 0x00,
  class: 0x04,
  data: 0x05,
  phoff: 0x20,
  shoff: 0x28,
  phentsize: 0x36,
  phnum: 0x38,
  shentsize: 0x3a,
  shnum: 0x3c,
  shstrndx: 0x3e,
  size: 0x40,
} as const;
const SHDR = { name: 0x00, type: 0x04, offset: 0x18, size: 0x20, size64: 0x40 } as const;
const PHDR = { type: 0x00 } as const;
const PT_INTERP = 3;
/** Kernel images have ~40 sections, modules ~60; anything far beyond is not a sane input. */
const MAX_SECTIONS = 4096;

export interface ElfSection {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

export interface ElfSummary {
  readonly sections: readonly ElfSection[];
  /** True when a PT_INTERP program header names a dynamic loader (the binary is not static). */
  readonly hasInterpreter: boolean;
}

function invalid(path: string, reason: string): VmsightError {
  return new VmsightError('INVALID_INPUT', `Cannot read ELF file "${path}": ${reason}`, {
    details: { path },
  });
}

async function readAt(
  handle: Awaited<ReturnType<typeof open>>,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, offset);
  return buffer.subarray(0, bytesRead);
}

/** Reads the section table (names resolved) and whether the file has an interpreter. */
export async function readElfSummary(path: string): Promise<ElfSummary> {
  const handle = await open(path, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const header = new ByteReader(await readAt(handle, 0, EHDR.size));
    if (header.length < EHDR.size || header.seek(EHDR.magic).u32be() !== 0x7f454c46) {
      throw invalid(path, 'no ELF magic');
    }
    if (
      header.seek(EHDR.class).u8() !== ELFCLASS64 ||
      header.seek(EHDR.data).u8() !== ELFDATA2LSB
    ) {
      throw invalid(path, 'not a 64-bit little-endian ELF');
    }
    const shoff = Number(header.seek(EHDR.shoff).u64le());
    const shentsize = header.seek(EHDR.shentsize).u16le();
    const shnum = header.seek(EHDR.shnum).u16le();
    const shstrndx = header.seek(EHDR.shstrndx).u16le();
    if (shnum > MAX_SECTIONS || shentsize < SHDR.size64 || shoff + shnum * shentsize > fileSize) {
      throw invalid(path, `the section table (${shnum} entries at ${shoff}) does not fit the file`);
    }
    const table = new ByteReader(await readAt(handle, shoff, shnum * shentsize));
    const raw = Array.from({ length: shnum }, (_unused, index) => {
      const base = index * shentsize;
      return {
        nameOffset: table.seek(base + SHDR.name).u32le(),
        offset: Number(table.seek(base + SHDR.offset).u64le()),
        size: Number(table.seek(base + SHDR.size).u64le()),
      };
    });
    const strtab = raw[shstrndx];
    if (strtab === undefined || strtab.offset + strtab.size > fileSize) {
      throw invalid(path, 'the section name table is out of range');
    }
    const names = new ByteReader(await readAt(handle, strtab.offset, strtab.size));
    const sections = raw.map((s) => ({
      name: s.nameOffset < names.length ? names.seek(s.nameOffset).cstring(256, 'latin1') : '',
      offset: s.offset,
      size: s.size,
    }));
    const phoff = Number(header.seek(EHDR.phoff).u64le());
    const phentsize = header.seek(EHDR.phentsize).u16le();
    const phnum = Math.min(header.seek(EHDR.phnum).u16le(), MAX_SECTIONS);
    const programs = new ByteReader(await readAt(handle, phoff, phnum * phentsize));
    let hasInterpreter = false;
    for (let index = 0; index < phnum && (index + 1) * phentsize <= programs.length; index += 1) {
      if (programs.seek(index * phentsize + PHDR.type).u32le() === PT_INTERP) hasInterpreter = true;
    }
    return { sections, hasInterpreter };
  } catch (error) {
    if (error instanceof RangeError) throw invalid(path, error.message);
    throw error;
  } finally {
    await handle.close();
  }
}

/** The bytes of the named section, or undefined when the file has none. */
export async function readElfSection(
  path: string,
  name: string,
  maxBytes = 16 * 1024 * 1024,
): Promise<Uint8Array | undefined> {
  const { sections } = await readElfSummary(path);
  const section = sections.find((s) => s.name === name);
  if (section === undefined) return undefined;
  if (section.size > maxBytes)
    throw invalid(path, `section "${name}" is larger than ${maxBytes} bytes`);
  const handle = await open(path, 'r');
  try {
    return await readAt(handle, section.offset, section.size);
  } finally {
    await handle.close();
  }
}
