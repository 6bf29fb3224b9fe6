import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DecompressStream } from 'zstd-napi';
import { VmsightError, type ProgressListener } from '../core/index.js';
import { isProcessAlive, type BlobStore } from './blob-store.js';
import { BlobRole } from './evidence-records.js';
import type { EvidenceStore } from './evidence-store.js';
import { HashMeter } from './hashing-compressor.js';
import { requireItem } from './_locker-context.js';

/** An item's memory image, decompressed to a file for random access; `remove` when done. */
export interface MemoryImageFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  remove(): Promise<void>;
}

/**
 * Decompresses an item's memory image (zstd) into a new file under `dir` and checks, in the same
 * pass, that its SHA-256 is the one the item recorded at acquisition: analysis runs only on the
 * image the custody log vouches for. Memory stays bounded (streams of 1 MiB chunks); the file is
 * mode 0600 (tenant memory) and removed on any failure.
 *
 * The introspection layers need random access (page-table walks jump across the image), which a
 * zstd frame does not give, hence the file rather than a stream.
 */
export async function extractMemoryImage(
  store: EvidenceStore,
  blobs: BlobStore,
  itemId: string,
  dir: string,
  onProgress?: ProgressListener,
): Promise<MemoryImageFile> {
  const item = await requireItem(store, itemId);
  if (item.status !== 'complete' || item.imageSha256 === undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot analyse item "${itemId}": it is ${item.status}, not complete`,
    );
  }
  const blob = (await store.getBlobs(itemId)).find((b) => b.role === BlobRole.MEMORY_IMAGE);
  if (blob === undefined) {
    throw new VmsightError('NOT_FOUND', `Item "${itemId}" has no memory image`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${itemId}.${process.pid}.${randomBytes(4).toString('hex')}.elf`);
  const remove = () => rm(path, { force: true });
  const meter = new HashMeter((done) =>
    onProgress?.({ label: 'extract', done, total: blob.contentSize }),
  );
  try {
    const source = await blobs.openRead(blob.sha256);
    const stages =
      blob.encoding === 'zstd' ? [source, new DecompressStream(), meter] : [source, meter];
    await pipeline([...stages, createWriteStream(path, { mode: 0o600, flags: 'wx' })]);
  } catch (error) {
    await remove();
    if (error instanceof VmsightError) throw error;
    throw new VmsightError(
      'IO_ERROR',
      `Cannot decompress the memory image of "${itemId}": ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (meter.sha256 !== item.imageSha256 || meter.bytes !== item.imageSize) {
    await remove();
    throw new VmsightError(
      'INVALID_INPUT',
      `The memory image of "${itemId}" does not match its recorded SHA-256: run "vmsight evidence verify ${itemId}"`,
      { details: { itemId, expected: item.imageSha256, actual: meter.sha256 } },
    );
  }
  return { path, size: meter.bytes, sha256: meter.sha256, remove };
}

/**
 * Removes decompressed images left by an analysis that was killed (its process is gone): they
 * are tenant memory in the clear and must not outlive the run that needed them.
 */
export async function removeStaleImages(dir: string): Promise<string[]> {
  const stale = (await readdir(dir).catch(() => [] as string[])).filter((name) => {
    const owner = Number(/\.(\d+)\.[0-9a-f]{8}\.elf$/.exec(name)?.[1]);
    return Number.isInteger(owner) && owner !== process.pid && !isProcessAlive(owner);
  });
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale;
}
