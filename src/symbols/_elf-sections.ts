import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ByteReader, VmsightError } from '../core/index.js';

/*
 * Just enough ELF64 little-endian (System V gABI: Elf64_Ehdr, Elf64_Shdr) to read one section of a
 * vmlinux. `src/lab/elf-sections.ts` has the same reader but `symbols` may not import `lab`; the
 * lead is asked to move one shared reader into `layers`.
 */
const EHDR = {
  size: 0x40,
  class: 0x04,
  data: 0x05,
  shoff: 0x28,
  shentsize: 0x3a,
  shnum: 0x3c,
  shstrndx: 0x3e,
} as const;
const SHDR = { name: 0x00, offset: 0x18, size: 0x20, minEntry: 0x40 } as const;
const MAX_SECTIONS = 4096;

function readAt(fd: number, offset: number, length: number): Uint8Array {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/** The bytes of section `name` of the ELF file at `path`, or undefined when it has none. */
export function readElfSectionSync(
  path: string,
  name: string,
  maxBytes: number,
): Uint8Array | undefined {
  const invalid = (reason: string): VmsightError =>
    new VmsightError('INVALID_INPUT', `Cannot read ELF file "${path}": ${reason}`, {
      details: { path },
    });
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new VmsightError('IO_ERROR', `Cannot open "${path}"`, { cause: error });
  }
  try {
    const fileSize = fstatSync(fd).size;
    const header = new ByteReader(readAt(fd, 0, EHDR.size));
    if (header.length < EHDR.size || header.u32be() !== 0x7f454c46) throw invalid('no ELF magic');
    if (header.seek(EHDR.class).u8() !== 2 || header.seek(EHDR.data).u8() !== 1) {
      throw invalid('not a 64-bit little-endian ELF');
    }
    const shoff = Number(header.seek(EHDR.shoff).u64le());
    const shentsize = header.seek(EHDR.shentsize).u16le();
    const shnum = header.seek(EHDR.shnum).u16le();
    const shstrndx = header.seek(EHDR.shstrndx).u16le();
    if (shnum > MAX_SECTIONS || shentsize < SHDR.minEntry || shoff + shnum * shentsize > fileSize) {
      throw invalid(`the section table (${shnum} entries at ${shoff}) does not fit the file`);
    }
    const table = new ByteReader(readAt(fd, shoff, shnum * shentsize));
    const entry = (index: number): { nameOffset: number; offset: number; size: number } => ({
      nameOffset: table.seek(index * shentsize + SHDR.name).u32le(),
      offset: Number(table.seek(index * shentsize + SHDR.offset).u64le()),
      size: Number(table.seek(index * shentsize + SHDR.size).u64le()),
    });
    if (shstrndx >= shnum) throw invalid('the section name table index is out of range');
    const strtab = entry(shstrndx);
    if (strtab.offset + strtab.size > fileSize)
      throw invalid('the section name table is out of range');
    const names = new ByteReader(readAt(fd, strtab.offset, strtab.size));
    for (let index = 0; index < shnum; index += 1) {
      const section = entry(index);
      if (section.nameOffset >= names.length) continue;
      if (names.seek(section.nameOffset).cstring(256, 'latin1') !== name) continue;
      if (section.offset + section.size > fileSize) {
        throw invalid(`section "${name}" ends past the file`);
      }
      if (section.size > maxBytes) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `Cannot read section "${name}" of "${path}": ${section.size} bytes is more than ${maxBytes}`,
        );
      }
      return readAt(fd, section.offset, section.size);
    }
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) throw invalid(error.message);
    throw error;
  } finally {
    closeSync(fd);
  }
}
