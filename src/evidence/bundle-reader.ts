import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { VmsightError } from '../core/index.js';
import {
  BUNDLE_MAGIC,
  BUNDLE_VERSION,
  MAX_CHUNK_SIZE,
  TAG_LENGTH,
  headerHash,
  openChunk,
  recipientKeys,
  type BundleHeader,
} from './bundle-crypto.js';
import { isJsonObject } from './canonical-json.js';
import { keyFingerprint } from './raw-keys.js';

/** Longest manifest a reader accepts (a custody log of thousands of events fits in far less). */
export const MAX_MANIFEST_BYTES = 64 << 20;
const MAX_HEADER_BYTES = 4096;

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function parseHeader(path: string, json: Buffer): BundleHeader {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new VmsightError('INVALID_INPUT', `Bundle "${path}" has a malformed header`, {
      cause: error,
    });
  }
  if (
    !isJsonObject(value) ||
    typeof value['recipient'] !== 'string' ||
    typeof value['ephemeralKey'] !== 'string' ||
    typeof value['salt'] !== 'string' ||
    typeof value['chunkSize'] !== 'number' ||
    !Number.isInteger(value['chunkSize']) ||
    value['chunkSize'] < 1 ||
    // Threat: the header is attacker-controlled; an absurd chunk size must not become an allocation.
    value['chunkSize'] > MAX_CHUNK_SIZE
  ) {
    throw new VmsightError('INVALID_INPUT', `Bundle "${path}" has a malformed header`);
  }
  return value as unknown as BundleHeader;
}

/** An opened bundle: its header and its decrypted plaintext, chunk by chunk. */
export interface OpenedBundle {
  readonly header: BundleHeader;
  /** Authenticated plaintext, in order; throws naming the chunk that fails. */
  readonly plaintext: AsyncIterable<Buffer>;
  /** SHA-256 of the whole bundle file, available once `plaintext` has been read to its end. */
  fileSha256(): string;
  close(): Promise<void>;
}

/**
 * Opens a `.vmsb` bundle for the holder of `recipientKey` (whose X25519 `agree` function derives
 * the key). Every chunk is authenticated before its bytes are released; a bundle for another key,
 * a damaged, reordered or truncated one fails with an error that says which.
 *
 * @example
 * ```ts
 * import { openBundle } from './bundle-reader.js';
 * const bundle = await openBundle('in.vmsb', keys.identity.encryptionKey, (peer) => keys.agree(peer));
 * for await (const chunk of bundle.plaintext) console.log(chunk.length);
 * ```
 */
export async function openBundle(
  path: string,
  recipientKey: string,
  agree: (peer: KeyObject) => Buffer,
): Promise<OpenedBundle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new VmsightError('NOT_FOUND', `Cannot open bundle "${path}"`, { cause: error });
  }
  try {
    const fileSize = (await stat(path)).size;
    const prefix = await readAt(handle, 0, 7);
    if (prefix.length < 7 || !prefix.subarray(0, 4).equals(BUNDLE_MAGIC)) {
      throw new VmsightError('INVALID_INPUT', `"${path}" is not a vmsight bundle`);
    }
    if (prefix.readUInt8(4) !== BUNDLE_VERSION) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Bundle "${path}" has format version ${prefix.readUInt8(4)}: this vmsight reads version ${BUNDLE_VERSION}`,
      );
    }
    const headerLength = prefix.readUInt16BE(5);
    if (headerLength > MAX_HEADER_BYTES) {
      throw new VmsightError('LIMIT_EXCEEDED', `Bundle "${path}" has an oversized header`);
    }
    const json = await readAt(handle, 7, headerLength);
    if (json.length < headerLength) {
      throw new VmsightError('TRUNCATED_INPUT', `Bundle "${path}" is truncated inside its header`);
    }
    const header = parseHeader(path, json);
    if (header.recipient !== recipientKey) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Bundle "${path}" is encrypted to key ${keyFingerprint(header.recipient)}, not to this key store's key ${keyFingerprint(recipientKey)}: it cannot be opened here`,
        { details: { recipient: keyFingerprint(header.recipient) } },
      );
    }
    const headerBytes = Buffer.concat([prefix, json]);
    const hashOfHeader = headerHash(headerBytes);
    const keys = recipientKeys(header, agree);
    const fileHash = createHash('sha256').update(headerBytes);
    let digest: string | undefined;
    async function* plaintext(): AsyncGenerator<Buffer> {
      let position = 7 + headerLength;
      let index = 0n;
      for (;;) {
        if (position === fileSize) {
          throw new VmsightError(
            'TRUNCATED_INPUT',
            `Bundle "${path}" is truncated: it ends after chunk ${index - 1n} without its final chunk`,
          );
        }
        const lengthBytes = await readAt(handle, position, 4);
        if (lengthBytes.length < 4) {
          throw new VmsightError(
            'TRUNCATED_INPUT',
            `Bundle "${path}" is truncated inside chunk ${index}`,
          );
        }
        const length = lengthBytes.readUInt32BE();
        if (length > header.chunkSize) {
          throw new VmsightError(
            'INVALID_INPUT',
            `Bundle "${path}" chunk ${index} claims ${length} bytes, more than its chunk size ${header.chunkSize}`,
          );
        }
        const sealed = await readAt(handle, position + 4, length + TAG_LENGTH);
        if (sealed.length < length + TAG_LENGTH) {
          throw new VmsightError(
            'TRUNCATED_INPUT',
            `Bundle "${path}" is truncated inside chunk ${index}`,
          );
        }
        position += 4 + length + TAG_LENGTH;
        const final = position === fileSize;
        const opened = openChunk(keys, hashOfHeader, index, final, sealed);
        if (opened === undefined) {
          if (final && openChunk(keys, hashOfHeader, index, false, sealed) !== undefined) {
            throw new VmsightError(
              'TRUNCATED_INPUT',
              `Bundle "${path}" is truncated: it ends after chunk ${index}, which is not its final chunk`,
            );
          }
          throw new VmsightError(
            'INVALID_INPUT',
            `Bundle "${path}" chunk ${index} does not authenticate: the bundle was altered, reordered or damaged`,
            { details: { chunk: Number(index) } },
          );
        }
        fileHash.update(lengthBytes).update(sealed);
        index += 1n;
        yield opened;
        if (final) {
          digest = fileHash.digest('hex');
          return;
        }
      }
    }
    return {
      header,
      plaintext: plaintext(),
      fileSha256: () => {
        if (digest === undefined) {
          throw new VmsightError(
            'INTERNAL',
            'Bundle hash read before the bundle was read to its end',
          );
        }
        return digest;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads exact byte counts from a stream of chunks (the bundle plaintext). */
export class ByteCursor {
  readonly #source: AsyncIterator<Buffer>;
  readonly #what: string;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(source: AsyncIterable<Buffer>, what: string) {
    this.#source = source[Symbol.asyncIterator]();
    this.#what = what;
  }

  async #fill(): Promise<boolean> {
    const next = await this.#source.next();
    if (next.done === true) return false;
    this.#buffer =
      this.#buffer.length === 0 ? next.value : Buffer.concat([this.#buffer, next.value]);
    return true;
  }

  async readExact(length: number): Promise<Buffer> {
    while (this.#buffer.length < length) {
      if (!(await this.#fill())) {
        throw new VmsightError('TRUNCATED_INPUT', `${this.#what} ends before its declared content`);
      }
    }
    const out = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return out;
  }

  /** Exactly `length` bytes, as they arrive. */
  async *take(length: number): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      if (this.#buffer.length === 0 && !(await this.#fill())) {
        throw new VmsightError('TRUNCATED_INPUT', `${this.#what} ends before its declared content`);
      }
      const piece = this.#buffer.subarray(0, Math.min(remaining, this.#buffer.length));
      this.#buffer = this.#buffer.subarray(piece.length);
      remaining -= piece.length;
      yield piece;
    }
  }

  /** True when nothing is left (reads to the end of the source, authenticating the last chunk). */
  async atEnd(): Promise<boolean> {
    while (this.#buffer.length === 0) {
      if (!(await this.#fill())) return true;
    }
    return false;
  }
}
