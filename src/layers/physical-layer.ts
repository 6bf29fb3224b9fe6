/** A run of readable physical addresses: `[start, start + length)`. */
export interface PhysicalRange {
  readonly start: bigint;
  readonly length: bigint;
}

export interface PhysicalReadOptions {
  /**
   * Read addresses outside every range as zeros instead of throwing `INVALID_ADDRESS`. Off by
   * default: a hole read as zeros looks like real data to whatever parses it.
   */
  readonly fillHoles?: boolean;
}

/**
 * Guest physical memory, from any source (raw file, shared memory backend, `/proc/<pid>/mem`, ELF
 * core, LiME). Offsets are guest physical addresses.
 *
 * Reads are synchronous on purpose: the page-table walker reads one 4 KiB table per level on a cache
 * miss, and an `await` per level would cost more than the read (files and `/proc/<pid>/mem` answer
 * `pread` from the page cache in microseconds).
 */
export interface PhysicalLayer {
  /** Short kind name for messages: "raw", "elf-core", "lime", "proc-mem". */
  readonly name: string;
  /** Readable ranges, sorted by start, not overlapping. */
  readonly ranges: readonly PhysicalRange[];
  /** True when every byte of `[address, address + length)` lies in a range. */
  isValid(address: bigint, length?: number): boolean;
  /**
   * Reads `length` bytes at `address`. A byte outside every range throws an `InvalidAddressError`
   * naming the first missing address, unless `fillHoles` is set.
   */
  read(address: bigint, length: number, options?: PhysicalReadOptions): Uint8Array;
  /** Drops cached bytes, for live sources after the guest ran. */
  invalidate(): void;
  close(): void;
}

/** One past the highest readable address of a layer, 0 when it has no ranges. */
export function layerEnd(layer: PhysicalLayer): bigint {
  const last = layer.ranges.at(-1);
  return last === undefined ? 0n : last.start + last.length;
}
