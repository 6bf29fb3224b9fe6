import { VmsightError, hex } from '../core/index.js';
import { parseElfNotes, type ElfNote } from './elf-notes.js';
import {
  ELF64_HEADER,
  ELF64_HEADER_SIZE,
  ELF64_PROGRAM_HEADER,
  ELF64_PROGRAM_HEADER_SIZE,
  ELF64_SECTION_HEADER,
  ELF64_SECTION_HEADER_SIZE,
  ELFCLASS64,
  ELFDATA2LSB,
  ELF_MAGIC,
  EM_X86_64,
  ET_CORE,
  PN_XNUM,
  PT_LOAD,
  PT_NOTE,
} from './elf-structures.js';
import { readFields, type Fields } from './field-table.js';
import { FileSource, type FileSourceOptions } from './file-source.js';
import { NT_PRSTATUS, parsePrStatus, type PrStatus } from './prstatus.js';
import { parseQemuCpuState, type QemuCpuState } from './qemu-cpu-state.js';
import { SegmentedLayer, type Segment } from './segmented-layer.js';
import { Vmcoreinfo } from './vmcoreinfo.js';

export interface ElfCoreOptions extends FileSourceOptions {
  /** Program headers read at most. Default 1,048,576 (PN_XNUM dumps hold 65,535+). */
  readonly maxProgramHeaders?: number;
  /** Bytes of PT_NOTE segments read at most, in all. Default 16 MiB. */
  readonly maxNoteBytes?: number;
}

export type ProgramHeader = Fields<typeof ELF64_PROGRAM_HEADER>;

/** A QEMU `dump-guest-memory` ELF core (or any x86-64 ELF core with physical addresses). */
export interface ElfCore {
  /** Guest physical memory: one segment per PT_LOAD, by `p_paddr`. */
  readonly layer: SegmentedLayer;
  readonly programHeaders: readonly ProgramHeader[];
  /**
   * PT_LOAD segments whose physical range was (partly) covered by another one. A `paging: true`
   * dump repeats a physical page once per virtual mapping of it; the lowest-starting segment
   * serves it (ties: the first in header order).
   */
  readonly overlappingSegments: number;
  readonly notes: readonly ElfNote[];
  /** One per vCPU, from the `QEMU` notes. */
  readonly cpus: readonly QemuCpuState[];
  /** One per vCPU, from the `CORE` NT_PRSTATUS notes. */
  readonly prstatus: readonly PrStatus[];
  /** The `VMCOREINFO` note, when the guest published one (`-device vmcoreinfo`). */
  readonly vmcoreinfo: Vmcoreinfo | undefined;
  close(): void;
}

/**
 * Opens an ELF core by offset: headers and notes are read, memory is not (a 1 GiB dump costs the
 * block cache's few MiB, whatever is read from it).
 *
 * @example
 * ```ts
 * import { openElfCore } from './elf-core-layer.js';
 * const core = openElfCore('guest.elf');
 * console.log(core.cpus[0]?.cr3, core.vmcoreinfo?.symbol('init_top_pgt'));
 * core.layer.read(0x2a1b5e0n, 16);
 * core.close();
 * ```
 */
export function openElfCore(path: string, options: ElfCoreOptions = {}): ElfCore {
  const source = new FileSource(path, options);
  try {
    return readCore(source, options);
  } catch (error) {
    source.close();
    if (error instanceof RangeError) {
      throw new VmsightError(
        'TRUNCATED_INPUT',
        `Cannot read ELF core "${path}": ${error.message}`,
        {
          cause: error,
          details: { file: path },
        },
      );
    }
    throw error;
  }
}

function readCore(source: FileSource, options: ElfCoreOptions): ElfCore {
  const invalid = (what: string): VmsightError =>
    new VmsightError('INVALID_INPUT', `"${source.path}" is not an x86-64 ELF core: ${what}`, {
      details: { file: source.path },
    });
  if (source.size < BigInt(ELF64_HEADER_SIZE)) throw invalid('it is shorter than an ELF header');
  const ident = source.read(0n, ELF64_HEADER_SIZE);
  if (ELF_MAGIC.some((byte, i) => ident[i] !== byte)) throw invalid('bad magic');
  if (ident[4] !== ELFCLASS64 || ident[5] !== ELFDATA2LSB) {
    throw invalid('only little-endian ELFCLASS64 is supported');
  }
  const header = readFields(ident, ELF64_HEADER);
  if (header.e_type !== ET_CORE) throw invalid(`e_type is ${header.e_type}, not ET_CORE`);
  if (header.e_machine !== EM_X86_64) throw invalid(`e_machine is ${header.e_machine}, not x86-64`);
  if (header.e_phentsize !== ELF64_PROGRAM_HEADER_SIZE) {
    throw invalid(`e_phentsize is ${header.e_phentsize}`);
  }

  // gABI extended numbering: with 65,535 or more headers e_phnum is PN_XNUM and the real count is
  // section header 0's sh_info.
  let count = header.e_phnum;
  if (count === PN_XNUM) {
    if (header.e_shoff === 0n || header.e_shoff + BigInt(ELF64_SECTION_HEADER_SIZE) > source.size) {
      throw invalid('e_phnum is PN_XNUM but section header 0 is missing');
    }
    count = readFields(
      source.read(header.e_shoff, ELF64_SECTION_HEADER_SIZE),
      ELF64_SECTION_HEADER,
    ).sh_info;
  }
  const maxHeaders = options.maxProgramHeaders ?? 1_048_576;
  if (count > maxHeaders) {
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `ELF core "${source.path}" declares ${count} program headers: the limit is ${maxHeaders}`,
    );
  }
  // The header table size is attacker-controlled: check it against the file before reading.
  const tableBytes = BigInt(count) * BigInt(ELF64_PROGRAM_HEADER_SIZE);
  if (header.e_phoff + tableBytes > source.size) {
    throw new VmsightError(
      'TRUNCATED_INPUT',
      `ELF core "${source.path}" is cut short: ${count} program headers at ${hex(header.e_phoff)} end past the file (${source.size} bytes)`,
      { details: { file: source.path } },
    );
  }
  const programHeaders: ProgramHeader[] = [];
  const chunk = 4096; // headers per read, so 1M headers never need one 56 MiB buffer
  for (let first = 0; first < count; first += chunk) {
    const n = Math.min(chunk, count - first);
    const bytes = source.read(
      header.e_phoff + BigInt(first * ELF64_PROGRAM_HEADER_SIZE),
      n * ELF64_PROGRAM_HEADER_SIZE,
    );
    for (let i = 0; i < n; i += 1) {
      programHeaders.push(readFields(bytes, ELF64_PROGRAM_HEADER, i * ELF64_PROGRAM_HEADER_SIZE));
    }
  }

  const segments: Segment[] = [];
  const notes: ElfNote[] = [];
  let noteBudget = options.maxNoteBytes ?? 16 * 1024 * 1024;
  for (const ph of programHeaders) {
    if (ph.p_type === PT_LOAD) {
      // Bytes past p_filesz (p_memsz > p_filesz) are not in the file: they stay holes, not zeros.
      segments.push({ start: ph.p_paddr, length: ph.p_filesz, fileOffset: ph.p_offset });
    } else if (ph.p_type === PT_NOTE) {
      if (ph.p_filesz > BigInt(noteBudget)) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `ELF core "${source.path}" has more note bytes than the ${options.maxNoteBytes ?? 16 * 1024 * 1024}-byte limit`,
        );
      }
      noteBudget -= Number(ph.p_filesz);
      notes.push(...parseElfNotes(source.read(ph.p_offset, Number(ph.p_filesz))));
    }
  }
  const resolved = resolveOverlaps(segments);
  const layer = new SegmentedLayer('elf-core', source, resolved.segments);
  const vmcoreinfoNote = notes.find((note) => note.name === 'VMCOREINFO');
  return {
    layer,
    programHeaders,
    overlappingSegments: resolved.overlapping,
    notes,
    cpus: notes.filter((note) => note.name === 'QEMU').map((note) => parseQemuCpuState(note.desc)),
    prstatus: notes
      .filter((note) => note.name === 'CORE' && note.type === NT_PRSTATUS)
      .map((note) => parsePrStatus(note.desc)),
    vmcoreinfo: vmcoreinfoNote === undefined ? undefined : Vmcoreinfo.parse(vmcoreinfoNote.desc),
    close: () => layer.close(),
  };
}

/**
 * Physical segments without overlap: sorted by start (stable, so header order breaks ties), each
 * trimmed to what no earlier segment covers. O(n log n) for the 65,535+ segments of paging dumps.
 */
function resolveOverlaps(segments: readonly Segment[]): {
  segments: Segment[];
  overlapping: number;
} {
  const sorted = segments
    .filter((segment) => segment.length > 0n)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Segment[] = [];
  let covered = -1n;
  let overlapping = 0;
  for (const segment of sorted) {
    const end = segment.start + segment.length;
    if (end <= covered) {
      overlapping += 1;
      continue;
    }
    if (segment.start < covered) {
      overlapping += 1;
      const skip = covered - segment.start;
      out.push({ start: covered, length: end - covered, fileOffset: segment.fileOffset + skip });
    } else {
      out.push(segment);
    }
    covered = end;
  }
  return { segments: out, overlapping };
}
