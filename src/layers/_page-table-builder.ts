import { BytesLayer } from './bytes-layer.js';
import type { PagingMode } from './paging-modes.js';

/** Present + writable (SDM Table 4-15…4-20 bits 0 and 1). */
const PRESENT_WRITABLE = 0x3n;
const PAGE_SIZE_BIT = 0x80n;

/**
 * Builds page tables byte by byte inside a {@link BytesLayer}, for walker tests and the benchmark.
 * Tables come from a bump allocator starting at `tableBase`; data pages are wherever the caller says.
 */
export class PageTableBuilder {
  readonly mode: PagingMode;
  readonly layer: BytesLayer;
  readonly root: bigint;
  #view: DataView;
  #next: bigint;

  constructor(mode: PagingMode, memoryBytes: number, tableBase = 0x1000n) {
    this.mode = mode;
    this.layer = new BytesLayer(new Uint8Array(memoryBytes));
    this.#view = new DataView(this.layer.bytes.buffer);
    this.#next = tableBase;
    this.root = this.allocateTable();
  }

  allocateTable(): bigint {
    const table = this.#next;
    this.#next += 0x1000n;
    if (this.#next > BigInt(this.layer.bytes.length)) throw new RangeError('Out of table memory');
    return table;
  }

  readEntry(table: bigint, index: number): bigint {
    return this.#view.getBigUint64(Number(table) + index * 8, true);
  }

  writeEntry(table: bigint, index: number, value: bigint): void {
    this.#view.setBigUint64(Number(table) + index * 8, value, true);
  }

  /** Maps `va` to `pa` with a page of `size` bytes (4 KiB, 2 MiB or 1 GiB), making tables as needed. */
  map(va: bigint, pa: bigint, size: number = 4096, flags = PRESENT_WRITABLE): void {
    const leafShift = BigInt(Math.log2(size));
    let table = this.root;
    for (const level of this.mode.levels) {
      const shift = BigInt(level.shift);
      const index = Number((va >> shift) & 0x1ffn);
      if (shift === leafShift) {
        const ps = shift === 12n ? 0n : PAGE_SIZE_BIT;
        this.writeEntry(table, index, pa | flags | ps);
        return;
      }
      let entry = this.readEntry(table, index);
      if ((entry & 1n) === 0n) {
        entry = this.allocateTable() | PRESENT_WRITABLE;
        this.writeEntry(table, index, entry);
      }
      table = entry & 0x000f_ffff_ffff_f000n;
    }
    throw new RangeError(`Page size ${size} has no level`);
  }
}
