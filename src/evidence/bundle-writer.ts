import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { VmsightError } from '../core/index.js';
import {
  DEFAULT_CHUNK_SIZE,
  encodeHeader,
  headerHash,
  sealChunk,
  senderKeys,
} from './bundle-crypto.js';

/** One blob's bytes for the bundle, opened only when its turn comes. */
export interface BundlePart {
  readonly size: number;
  open(): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
}

export interface BundleContent {
  /** Canonical JSON of the signed manifest. */
  readonly manifest: string;
  /** Ed25519 signature of the manifest (base64url). */
  readonly signature: string;
  readonly parts: readonly BundlePart[];
}

export interface WrittenBundle {
  readonly sha256: string;
  readonly size: number;
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * Writes a `.vmsb` bundle encrypted to `recipientKey` (X25519, raw base64url): a cleartext header,
 * then the plaintext `u32 len ‖ manifest ‖ u32 len ‖ signature ‖ blob bytes…` sealed in chunks of
 * `chunkSize` with AES-256-GCM (see bundle-crypto.ts). Streams: memory stays at about two chunks
 * whatever the blobs' size. The file is fsynced before this resolves.
 *
 * @example
 * ```ts
 * import { writeBundle } from './bundle-writer.js';
 * await writeBundle('out.vmsb', analystKey, { manifest, signature, parts: [] });
 * ```
 */
export async function writeBundle(
  path: string,
  recipientKey: string,
  content: BundleContent,
  options: { readonly chunkSize?: number; readonly onBytes?: (n: number) => void } = {},
): Promise<WrittenBundle> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const { header, keys } = senderKeys(recipientKey, chunkSize);
  const headerBytes = encodeHeader(header);
  const hashOfHeader = headerHash(headerBytes);
  const fileHash = createHash('sha256');
  const handle = await open(path, 'wx', 0o600);
  let size = 0;
  let index = 0n;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let plainBytes = 0;
  const emit = async (bytes: Buffer): Promise<void> => {
    fileHash.update(bytes);
    size += bytes.length;
    await handle.write(bytes);
  };
  const seal = async (plaintext: Buffer, final: boolean): Promise<void> => {
    const sealed = sealChunk(keys, hashOfHeader, index, final, plaintext);
    index += 1n;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(sealed.length - 16);
    await emit(Buffer.concat([length, sealed]));
  };
  // A chunk is sealed only once more bytes are known to follow, so the last one gets the final flag.
  const push = async (bytes: Uint8Array): Promise<void> => {
    pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    pendingBytes += bytes.byteLength;
    plainBytes += bytes.byteLength;
    options.onBytes?.(plainBytes);
    if (pendingBytes <= chunkSize) return;
    let all = Buffer.concat(pending);
    while (all.length > chunkSize) {
      await seal(all.subarray(0, chunkSize), false);
      all = all.subarray(chunkSize);
    }
    pending = [all];
    pendingBytes = all.length;
  };
  try {
    await emit(headerBytes);
    await push(lengthPrefixed(content.manifest));
    await push(lengthPrefixed(content.signature));
    for (const [number, part] of content.parts.entries()) {
      let written = 0;
      for await (const chunk of await part.open()) {
        written += chunk.byteLength;
        await push(chunk);
      }
      if (written !== part.size) {
        throw new VmsightError(
          'IO_ERROR',
          `Cannot write bundle "${path}": part ${number} has ${written} bytes, not ${part.size}`,
        );
      }
    }
    await seal(Buffer.concat(pending), true);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: fileHash.digest('hex'), size };
}
