import { open } from 'node:fs/promises';

/**
 * Reads a FIFO to its end as a stream of views into large reused slabs. `fs.createReadStream`
 * allocates a whole `highWaterMark` buffer for every read and copies when the read is short, and
 * pipe reads are short (a 64 KiB pipe buffer, often 4 KiB when the writer is the slower side): on a
 * 1 GiB dump that was 5 s of garbage collection. Here a read costs no allocation; a slab is
 * replaced when less than `minRead` bytes of it remain, and lives while views of it are held.
 *
 * Opening blocks (fifo(7)) until a writer opens the other end; the open runs on libuv's pool.
 *
 * @example
 * ```ts
 * import { readFifo } from './fifo-reader.js';
 * for await (const chunk of readFifo('/tmp/dump/memory.elf')) console.log(chunk.length);
 * ```
 */
export async function* readFifo(
  path: string,
  options: { readonly slabSize?: number; readonly minRead?: number } = {},
): AsyncGenerator<Buffer> {
  const slabSize = options.slabSize ?? 8 << 20;
  const minRead = options.minRead ?? 256 << 10;
  const handle = await open(path, 'r');
  try {
    let slab = Buffer.allocUnsafe(slabSize);
    let offset = 0;
    for (;;) {
      if (slabSize - offset < minRead) {
        slab = Buffer.allocUnsafe(slabSize);
        offset = 0;
      }
      const { bytesRead } = await handle.read(slab, offset, slabSize - offset, null);
      if (bytesRead === 0) return;
      yield slab.subarray(offset, offset + bytesRead);
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
