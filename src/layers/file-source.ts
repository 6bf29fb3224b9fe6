import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { VmsightError } from '../core/index.js';
import { BlockCache, type BlockCacheOptions } from './block-cache.js';

export interface FileSourceOptions {
  /**
   * Cache blocks of the file (`false` for live sources such as the shared memory backend or
   * `/proc/<pid>/mem`, whose bytes change under us). Default: a {@link BlockCache} with its defaults.
   */
  readonly cache?: BlockCacheOptions | false;
  /** Size of the file in bytes when `fstat` cannot tell (`/proc/<pid>/mem` reports 0). */
  readonly size?: bigint;
}

/**
 * Bytes of one open file, read by offset with `pread` through a bounded block cache. Never reads a
 * whole file: memory held is at most the cache's budget plus the caller's buffers.
 */
export class FileSource {
  readonly path: string;
  readonly size: bigint;
  #fd: number | undefined;
  #cache: BlockCache | undefined;

  constructor(path: string, options: FileSourceOptions = {}) {
    this.path = path;
    try {
      this.#fd = openSync(path, 'r');
      this.size = options.size ?? BigInt(fstatSync(this.#fd).size);
    } catch (error) {
      if (this.#fd !== undefined) closeSync(this.#fd);
      const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
      throw new VmsightError(code, `Cannot open "${path}": ${(error as Error).message}`, {
        cause: error,
        details: { file: path },
      });
    }
    this.#cache = options.cache === false ? undefined : new BlockCache(options.cache);
  }

  /** Bytes held by the cache now. */
  get cachedBytes(): number {
    return this.#cache?.heldBytes ?? 0;
  }

  /**
   * Copies `target.length` bytes at `offset` into `target`. Reading past the end of the file throws
   * `TRUNCATED_INPUT`: callers check their ranges against the file size first.
   */
  readInto(offset: bigint, target: Uint8Array): void {
    if (offset < 0n || offset + BigInt(target.length) > this.size) {
      throw new VmsightError(
        'TRUNCATED_INPUT',
        `Cannot read ${target.length} bytes at offset ${offset} of "${this.path}": the file holds ${this.size} bytes`,
        { details: { file: this.path, offset: offset.toString() } },
      );
    }
    const cache = this.#cache;
    if (cache === undefined || target.length > cache.blockSize * 2) {
      this.#pread(offset, target);
      return;
    }
    const blockSize = BigInt(cache.blockSize);
    let done = 0;
    while (done < target.length) {
      const at = offset + BigInt(done);
      const blockNumber = at / blockSize;
      const blockStart = blockNumber * blockSize;
      const block = cache.get(Number(blockNumber), (fresh) => {
        const available = this.size - blockStart;
        const want = available < blockSize ? Number(available) : cache.blockSize;
        this.#pread(blockStart, fresh.subarray(0, want));
      });
      const inBlock = Number(at - blockStart);
      const count = Math.min(cache.blockSize - inBlock, target.length - done);
      target.set(block.subarray(inBlock, inBlock + count), done);
      done += count;
    }
  }

  read(offset: bigint, length: number): Uint8Array {
    const target = new Uint8Array(length);
    this.readInto(offset, target);
    return target;
  }

  invalidate(): void {
    this.#cache?.clear();
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#cache?.clear();
  }

  #pread(offset: bigint, target: Uint8Array): void {
    const fd = this.#fd;
    if (fd === undefined) {
      throw new VmsightError('IO_ERROR', `Cannot read "${this.path}": the file is closed`);
    }
    let done = 0;
    while (done < target.length) {
      let count: number;
      try {
        // A number position keeps pread on the fast path; offsets stay below 2^53 for any real file.
        count = readSync(fd, target, done, target.length - done, Number(offset) + done);
      } catch (error) {
        throw new VmsightError(
          'IO_ERROR',
          `Cannot read "${this.path}" at offset ${offset + BigInt(done)}: ${(error as Error).message}`,
          { cause: error, details: { file: this.path } },
        );
      }
      if (count === 0) {
        throw new VmsightError(
          'TRUNCATED_INPUT',
          `Cannot read "${this.path}" at offset ${offset + BigInt(done)}: unexpected end of file`,
          { details: { file: this.path } },
        );
      }
      done += count;
    }
  }
}
