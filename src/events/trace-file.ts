import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DecompressStream } from 'zstd-napi';
import { VmsightError } from '../core/index.js';
import { toAsync } from './_to-async.js';

/** Zstandard frame magic number 0xFD2FB528, little-endian on disk (RFC 8878 section 3.1.1). */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/**
 * True when `bytes` starts with the zstd frame magic.
 *
 * @example
 * ```ts
 * import { isZstdFrame } from './trace-file.js';
 * isZstdFrame(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0])); // true
 * ```
 */
export function isZstdFrame(bytes: Uint8Array): boolean {
  return ZSTD_MAGIC.every((byte, index) => bytes[index] === byte);
}

/**
 * Passes a byte stream through, decompressing it when it starts with the zstd magic. Detection is
 * by content, not by file name, so a renamed `.zst` still reads. `source` names the input in errors.
 *
 * @example
 * ```ts
 * import { decompressIfZstd } from './trace-file.js';
 * async function* chunks() { yield new TextEncoder().encode('plain text'); }
 * for await (const chunk of decompressIfZstd(chunks(), 'example')) console.log(chunk.length); // 10
 * ```
 */
export async function* decompressIfZstd(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  source: string,
): AsyncGenerator<Uint8Array> {
  const iterator = toAsync(chunks);
  try {
    yield* decompressFrom(iterator, source);
  } finally {
    // Early exit by the consumer (break, error) must still close the file underneath.
    await iterator.return(undefined);
  }
}

async function* decompressFrom(
  iterator: AsyncIterator<Uint8Array>,
  source: string,
): AsyncGenerator<Uint8Array> {
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let done = false;
  // A pipe or a byte-at-a-time test may hand over the 4 magic bytes in several chunks.
  while (headBytes < ZSTD_MAGIC.length) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.byteLength;
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  if (!isZstdFrame(first)) {
    yield* rest();
    return;
  }
  const input = Readable.from(rest(), { objectMode: false });
  const decompressor = new DecompressStream();
  input.on('error', (error) => decompressor.destroy(error));
  input.pipe(decompressor);
  try {
    for await (const chunk of decompressor) {
      yield chunk as Buffer;
    }
  } catch (error) {
    if (error instanceof VmsightError) throw error;
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot decompress ${JSON.stringify(source)}: the zstd stream is corrupt or truncated`,
      { cause: error, details: { source } },
    );
  } finally {
    input.destroy();
    decompressor.destroy();
  }
}

/**
 * Options for {@link readTraceFile}.
 *
 * @example
 * ```ts
 * readTraceFile('trace.jsonl.zst', { chunkBytes: 1 << 20 });
 * ```
 */
export interface ReadTraceFileOptions {
  /** Read size in bytes. Default 64 KiB. */
  readonly chunkBytes?: number;
}

/**
 * Streams a file's bytes, decompressed when it is zstd. A missing file is `NOT_FOUND`, any other
 * operating-system failure `IO_ERROR`, both naming the path.
 *
 * @example
 * ```ts
 * import { readTraceFile } from './trace-file.js';
 * for await (const chunk of readTraceFile('trace.vmtrace.jsonl.zst')) console.log(chunk.length);
 * ```
 */
export async function* readTraceFile(
  path: string,
  options: ReadTraceFileOptions = {},
): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? 64 * 1024 });
  try {
    yield* decompressIfZstd(wrapIoErrors(stream, path), path);
  } finally {
    stream.destroy();
  }
}

async function* wrapIoErrors(stream: Readable, path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw ioError(error, path);
  }
}

/**
 * Maps an operating-system error on `path` to the closed taxonomy.
 *
 * @example
 * ```ts
 * stat(path).catch((error: unknown) => { throw ioError(error, path); });
 * ```
 */
export function ioError(error: unknown, path: string): VmsightError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new VmsightError('NOT_FOUND', `Cannot read ${JSON.stringify(path)}: no such file`, {
      cause: error,
      details: { path },
    });
  }
  return new VmsightError(
    'IO_ERROR',
    `Cannot read ${JSON.stringify(path)}: ${code ?? String(error)}`,
    { cause: error, details: { path } },
  );
}
