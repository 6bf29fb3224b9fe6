import { VmsightError, hex } from '../core/index.js';
import { readFields, type FieldTable } from './field-table.js';
import { FileSource, type FileSourceOptions } from './file-source.js';
import { SegmentedLayer, type Segment } from './segmented-layer.js';

/**
 * LiME range header (LiME "lime" format, `lime_mem_range_header`): magic, version, first and last
 * physical address of the range (inclusive), 8 reserved bytes; the range's bytes follow.
 */
export const LIME_HEADER = {
  magic: { offset: 0, width: 4 },
  version: { offset: 4, width: 4 },
  s_addr: { offset: 8, width: 8 },
  e_addr: { offset: 16, width: 8 },
} as const satisfies FieldTable;

export const LIME_HEADER_SIZE = 32;
/** "EMiL" little-endian. */
export const LIME_MAGIC = 0x4c694d45;

export interface LimeOptions extends FileSourceOptions {
  /** Ranges read at most. Default 65,536. */
  readonly maxRanges?: number;
}

/**
 * Opens a LiME dump: walks the range headers once (reading 32 bytes per range), then reads memory
 * by offset.
 *
 * @example
 * ```ts
 * import { openLimeLayer } from './lime-layer.js';
 * const layer = openLimeLayer('guest.lime');
 * layer.ranges; // [{ start: 0n, length: 0x9fc00n, fileOffset: 32n }, …]
 * ```
 */
export function openLimeLayer(path: string, options: LimeOptions = {}): SegmentedLayer {
  const source = new FileSource(path, options);
  try {
    const maxRanges = options.maxRanges ?? 65_536;
    const segments: Segment[] = [];
    let offset = 0n;
    while (offset < source.size) {
      if (offset + BigInt(LIME_HEADER_SIZE) > source.size) {
        throw new VmsightError(
          'TRUNCATED_INPUT',
          `LiME dump "${path}" ends inside a range header at offset ${offset}`,
          { details: { file: path } },
        );
      }
      const header = readFields(source.read(offset, LIME_HEADER_SIZE), LIME_HEADER);
      if (header.magic !== LIME_MAGIC) {
        throw new VmsightError(
          'INVALID_INPUT',
          `"${path}" is not a LiME dump: bad magic ${hex(header.magic)} at offset ${offset}`,
          { details: { file: path, offset: offset.toString() } },
        );
      }
      if (header.e_addr < header.s_addr) {
        throw new VmsightError(
          'INVALID_INPUT',
          `LiME range at offset ${offset} ends (${hex(header.e_addr)}) before it starts (${hex(header.s_addr)})`,
        );
      }
      if (segments.length >= maxRanges) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `LiME dump "${path}" holds more than ${maxRanges} ranges`,
        );
      }
      const length = header.e_addr - header.s_addr + 1n;
      const data = offset + BigInt(LIME_HEADER_SIZE);
      segments.push({ start: header.s_addr, length, fileOffset: data });
      offset = data + length;
    }
    return new SegmentedLayer('lime', source, segments);
  } catch (error) {
    source.close();
    throw error;
  }
}
