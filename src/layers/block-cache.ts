/** Limits of a {@link BlockCache}. */
export interface BlockCacheOptions {
  /** Bytes per cached block, a power of two. Default 64 KiB. */
  readonly blockSize?: number;
  /** Blocks kept at most; the least recently used goes first. Default 64 (4 MiB with 64 KiB). */
  readonly maxBlocks?: number;
}

export const DEFAULT_BLOCK_SIZE = 64 * 1024;
export const DEFAULT_MAX_BLOCKS = 64;

/**
 * A small least-recently-used cache of fixed-size blocks keyed by block number. It bounds memory
 * whatever the size of the dump behind it: a 1 GiB dump read end to end never holds more than
 * `blockSize * maxBlocks` bytes here.
 *
 * @example
 * ```ts
 * import { BlockCache } from './block-cache.js';
 * const cache = new BlockCache({ blockSize: 4096, maxBlocks: 2 });
 * cache.get(7, (block) => block.fill(1)); // loads block 7 once
 * cache.get(7, () => { throw new Error('not called again'); });
 * ```
 */
export class BlockCache {
  readonly blockSize: number;
  readonly maxBlocks: number;
  #blocks = new Map<number, Uint8Array>();
  #hits = 0;
  #misses = 0;

  constructor(options: BlockCacheOptions = {}) {
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    const maxBlocks = options.maxBlocks ?? DEFAULT_MAX_BLOCKS;
    if (!Number.isInteger(blockSize) || blockSize <= 0 || (blockSize & (blockSize - 1)) !== 0) {
      throw new RangeError(`Block size ${blockSize} is not a power of two`);
    }
    if (!Number.isInteger(maxBlocks) || maxBlocks < 1) {
      throw new RangeError(`Block count ${maxBlocks} is not a positive integer`);
    }
    this.blockSize = blockSize;
    this.maxBlocks = maxBlocks;
  }

  /** The block numbered `key`, filled by `load` on a miss. */
  get(key: number, load: (block: Uint8Array) => void): Uint8Array {
    const found = this.#blocks.get(key);
    if (found !== undefined) {
      this.#hits += 1;
      // Map keeps insertion order: re-inserting marks the block as most recently used.
      this.#blocks.delete(key);
      this.#blocks.set(key, found);
      return found;
    }
    this.#misses += 1;
    let block: Uint8Array | undefined;
    if (this.#blocks.size >= this.maxBlocks) {
      const oldest = this.#blocks.keys().next();
      if (oldest.done !== true) {
        block = this.#blocks.get(oldest.value);
        this.#blocks.delete(oldest.value);
      }
    }
    block ??= new Uint8Array(this.blockSize);
    load(block);
    this.#blocks.set(key, block);
    return block;
  }

  clear(): void {
    this.#blocks.clear();
  }

  /** Bytes currently held. */
  get heldBytes(): number {
    return this.#blocks.size * this.blockSize;
  }

  get stats(): { hits: number; misses: number; blocks: number } {
    return { hits: this.#hits, misses: this.#misses, blocks: this.#blocks.size };
  }
}
