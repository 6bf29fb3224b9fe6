import { ByteReader, VmsightError } from '../core/index.js';

/** One ELF note (gABI "Note Section"): `name` without its NUL, `type`, and the descriptor bytes. */
export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export interface ElfNoteLimits {
  /** Notes read at most per segment. Default 4,096 (one NT_PRSTATUS + QEMU note per vCPU, and a few). */
  readonly maxNotes?: number;
  /** Longest name. Default 256. */
  readonly maxNameBytes?: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Parses a PT_NOTE segment. Note sizes are attacker-controlled: each is checked against what is
 * left of the segment before it is sliced, so a crafted size is `TRUNCATED_INPUT`, never a huge read.
 *
 * @example
 * ```ts
 * import { parseElfNotes } from './elf-notes.js';
 * parseElfNotes(new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x43, 0x4f, 0x52, 0x45, 0, 0, 0, 0]));
 * // [{ name: 'CORE', type: 1, desc: Uint8Array(0) }]
 * ```
 */
export function parseElfNotes(bytes: Uint8Array, limits: ElfNoteLimits = {}): ElfNote[] {
  const maxNotes = limits.maxNotes ?? 4096;
  const maxNameBytes = limits.maxNameBytes ?? 256;
  const reader = new ByteReader(bytes);
  const notes: ElfNote[] = [];
  try {
    // Trailing padding shorter than a note header is allowed (QEMU pads the note segment).
    while (reader.remaining >= 12) {
      if (notes.length >= maxNotes) {
        throw new VmsightError('LIMIT_EXCEEDED', `Note segment holds more than ${maxNotes} notes`);
      }
      const at = reader.offset;
      const nameSize = reader.u32le();
      const descSize = reader.u32le();
      const type = reader.u32le();
      if (nameSize === 0 && descSize === 0 && type === 0) break;
      if (nameSize > maxNameBytes) {
        throw new VmsightError(
          'INVALID_INPUT',
          `Note at offset ${at} has a ${nameSize}-byte name: the limit is ${maxNameBytes}`,
        );
      }
      const nameBytes = reader.bytesView(align4(nameSize)).subarray(0, nameSize);
      const nul = nameBytes.indexOf(0);
      const name = Buffer.from(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)).toString('latin1');
      // The last note's descriptor may lack its padding at the very end of the segment.
      const desc = reader.bytesView(descSize);
      reader.skip(Math.min(align4(descSize) - descSize, reader.remaining));
      notes.push({ name, type, desc });
    }
  } catch (error) {
    if (error instanceof RangeError) {
      throw new VmsightError(
        'TRUNCATED_INPUT',
        `Note segment ends inside a note: ${error.message}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  return notes;
}
