import { Transform, Writable, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { DecompressStream } from 'zstd-napi';
import { VmsightError } from '../core/index.js';
import type { BlobStore } from './blob-store.js';
import type { ItemBlob } from './evidence-records.js';
import { HashMeter } from './hashing-compressor.js';

/** Passes bytes through and feeds a side branch, waiting for the branch's backpressure. */
class Tee extends Transform {
  readonly #branch: Writable;
  constructor(branch: Writable) {
    super();
    this.#branch = branch;
  }
  override _transform(chunk: Buffer, _encoding: string, done: TransformCallback): void {
    if (this.#branch.write(chunk)) done(null, chunk);
    else this.#branch.once('drain', () => done(null, chunk));
  }
  override _flush(done: TransformCallback): void {
    this.#branch.end();
    done();
  }
}

/**
 * Stores a blob received from another party, checking as it streams that its stored bytes and
 * (decompressed) content have the hashes and lengths `expected` declares. Nothing is committed
 * under the hash unless all four match; the temporary file is removed otherwise.
 * Returns the committed path.
 */
export async function storeReceivedBlob(
  blobs: BlobStore,
  source: AsyncIterable<Buffer>,
  expected: ItemBlob,
  owner: string,
): Promise<void> {
  const writer = await blobs.createWriter(owner);
  const stored = new HashMeter();
  const content = new HashMeter();
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  try {
    if (expected.encoding === 'zstd') {
      const decompressor = new DecompressStream();
      const branch = pipeline(decompressor, content, sink);
      await pipeline(source, stored, new Tee(decompressor), writer.stream);
      await branch;
    } else {
      await pipeline(source, stored, content, writer.stream);
    }
    await finished(writer.stream);
  } catch (error) {
    await writer.abort();
    if (error instanceof VmsightError) throw error;
    throw new VmsightError(
      'INVALID_INPUT',
      `Blob ${expected.role} cannot be stored: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const problems: string[] = [];
  if (stored.sha256 !== expected.sha256 || stored.bytes !== expected.size) {
    problems.push(`its bytes hash to ${stored.sha256}, not ${expected.sha256}`);
  }
  if (content.sha256 !== expected.contentSha256 || content.bytes !== expected.contentSize) {
    problems.push(`its content hashes to ${content.sha256}, not ${expected.contentSha256}`);
  }
  if (problems.length > 0) {
    await writer.abort();
    throw new VmsightError(
      'INVALID_INPUT',
      `Blob ${expected.role} does not match the manifest: ${problems.join('; ')}`,
      { details: { role: expected.role } },
    );
  }
  await writer.commit(expected.sha256);
}
