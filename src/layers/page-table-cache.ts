import type { PhysicalLayer } from './physical-layer.js';
import { TABLE_BYTES } from './paging-modes.js';

export interface PageTableCacheOptions {
  /** Table pages kept at most (4 KiB each). Default 1024 (4 MiB). */
  readonly maxPages?: number;
}

export const DEFAULT_MAX_TABLE_PAGES = 1024;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Page-table pages as arrays of 32-bit halves (entry `i` is `[2i]` low, `[2i+1]` high), so the
 * walker decodes entries with int32 arithmetic instead of bigint. Bounded: when full, the oldest
 * page goes (first in, first out: a hit costs one Map lookup and no reordering, which keeps the
 * warm path fast; the walker's per-level memo keeps the hottest tables out of the way anyway).
 *
 * Pages are keyed by physical address as a number (page-table addresses are below 2^52).
 */
export class PageTableCache {
  readonly maxPages: number;
  #layer: PhysicalLayer;
  #pages = new Map<number, Uint32Array>();
  #misses = 0;

  constructor(layer: PhysicalLayer, options: PageTableCacheOptions = {}) {
    const maxPages = options.maxPages ?? DEFAULT_MAX_TABLE_PAGES;
    if (!Number.isInteger(maxPages) || maxPages < 1) {
      throw new RangeError(`Page count ${maxPages} is not a positive integer`);
    }
    this.#layer = layer;
    this.maxPages = maxPages;
  }

  /** The table page at `address` (4 KiB aligned), or `undefined` when it is not readable. */
  get(address: number): Uint32Array | undefined {
    const found = this.#pages.get(address);
    if (found !== undefined) return found;
    const big = BigInt(address);
    if (!this.#layer.isValid(big, TABLE_BYTES)) return undefined;
    this.#misses += 1;
    const bytes = this.#layer.read(big, TABLE_BYTES);
    let words: Uint32Array;
    if (LITTLE_ENDIAN_HOST) {
      words = new Uint32Array(bytes.buffer, bytes.byteOffset, TABLE_BYTES / 4);
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, TABLE_BYTES);
      words = new Uint32Array(TABLE_BYTES / 4);
      for (let i = 0; i < words.length; i += 1) words[i] = view.getUint32(i * 4, true);
    }
    if (this.#pages.size >= this.maxPages) {
      const oldest = this.#pages.keys().next();
      if (oldest.done !== true) this.#pages.delete(oldest.value);
    }
    this.#pages.set(address, words);
    return words;
  }

  clear(): void {
    this.#pages.clear();
  }

  get size(): number {
    return this.#pages.size;
  }

  get misses(): number {
    return this.#misses;
  }
}
