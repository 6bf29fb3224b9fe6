import { VmsightError, hex } from '../core/index.js';
import type { FileSource } from './file-source.js';
import { InvalidAddressError } from './invalid-address-error.js';
import type { PhysicalLayer, PhysicalRange, PhysicalReadOptions } from './physical-layer.js';

/** Physical addresses `[start, start + length)` stored at `fileOffset` of the source. */
export interface Segment extends PhysicalRange {
  readonly fileOffset: bigint;
}

/** Longest single read, so a hostile length cannot make us allocate gigabytes. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

/** Refuses a read length that is not a whole number of bytes from 0 to {@link MAX_READ_BYTES}. */
export function checkReadLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_READ_BYTES) {
    throw new RangeError(`Cannot read ${length} bytes: the length must be 0 to ${MAX_READ_BYTES}`);
  }
}

/**
 * A physical layer made of segments of one file: raw images (one segment at 0), ELF cores (one per
 * PT_LOAD), LiME (one per range), `/proc/<pid>/mem` (one per RAM block). Segments are checked at
 * construction: sorted, inside the file, not overlapping.
 */
export class SegmentedLayer implements PhysicalLayer {
  readonly name: string;
  readonly ranges: readonly Segment[];
  readonly source: FileSource;
  #starts: bigint[];

  constructor(name: string, source: FileSource, segments: readonly Segment[]) {
    this.name = name;
    this.source = source;
    const sorted = segments.filter((s) => s.length > 0n).sort((a, b) => cmp(a.start, b.start));
    for (const [index, segment] of sorted.entries()) {
      // The segment table is attacker-controlled (a crafted dump): reject what would make two
      // physical addresses read the same bytes or read outside the file.
      if (segment.start < 0n || segment.fileOffset < 0n) {
        throw new VmsightError('INVALID_INPUT', `Segment at ${hex(segment.start)} is negative`);
      }
      if (segment.fileOffset + segment.length > source.size) {
        throw new VmsightError(
          'TRUNCATED_INPUT',
          `Cannot map physical ${hex(segment.start)}-${hex(segment.start + segment.length)} of "${source.path}": file offset ${hex(segment.fileOffset + segment.length)} is past the end (${hex(source.size)})`,
          { details: { file: source.path } },
        );
      }
      const previous = sorted[index - 1];
      if (previous !== undefined && previous.start + previous.length > segment.start) {
        throw new VmsightError(
          'INVALID_INPUT',
          `Physical ranges overlap in "${source.path}": ${hex(previous.start)}+${hex(previous.length)} and ${hex(segment.start)}`,
          { details: { file: source.path } },
        );
      }
    }
    this.ranges = sorted;
    this.#starts = sorted.map((s) => s.start);
  }

  isValid(address: bigint, length = 1): boolean {
    let at = address;
    const end = address + BigInt(length);
    while (at < end) {
      const segment = this.#find(at);
      if (segment === undefined) return false;
      at = segment.start + segment.length;
    }
    return true;
  }

  read(address: bigint, length: number, options: PhysicalReadOptions = {}): Uint8Array {
    checkReadLength(length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = address + BigInt(done);
      const segment = this.#find(at);
      if (segment === undefined) {
        const next = this.#nextStart(at);
        const gap = next === undefined ? length - done : Math.min(length - done, Number(next - at));
        if (options.fillHoles !== true) {
          throw new InvalidAddressError(
            `Cannot read physical address ${hex(at)}: it is not in ${this.name} "${this.source.path}"`,
            { layer: this.name, address: at },
          );
        }
        done += gap; // `out` is already zero-filled
        continue;
      }
      const inSegment = at - segment.start;
      const count = Math.min(length - done, Number(segment.length - inSegment));
      this.source.readInto(segment.fileOffset + inSegment, out.subarray(done, done + count));
      done += count;
    }
    return out;
  }

  invalidate(): void {
    this.source.invalidate();
  }

  close(): void {
    this.source.close();
  }

  #index(address: bigint): number {
    // Last segment whose start is <= address (binary search: ELF dumps may hold 65,535+ segments).
    let low = 0;
    let high = this.#starts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if ((this.#starts[mid] ?? 0n) <= address) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  #find(address: bigint): Segment | undefined {
    const segment = this.ranges[this.#index(address)];
    return segment !== undefined && address < segment.start + segment.length ? segment : undefined;
  }

  #nextStart(address: bigint): bigint | undefined {
    return this.#starts[this.#index(address) + 1];
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
