/**
 * A bounds-checked cursor over untrusted bytes (dumps, ELF headers, BTF, guest memory, protocol
 * replies). Method names carry width and byte order; 64-bit values are `bigint` because guest
 * addresses do not fit in a double's 53-bit mantissa.
 *
 * Reading past the end throws `RangeError` — "need more bytes" — which streaming framers tell apart
 * from "malformed" (a `VmsightError` with code `INVALID_INPUT`) as msgpack's decoder does.
 *
 * @example
 * ```ts
 * import { ByteReader } from './byte-reader.js';
 * const reader = new ByteReader(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1]));
 * reader.u32be(); // 0x7f454c46, the ELF magic
 * reader.u8(); // 2 (ELFCLASS64)
 * ```
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  #view: DataView;
  #offset: number;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offset = 0;
    this.seek(offset);
  }

  /** Current position, in bytes from the start of the buffer. */
  get offset(): number {
    return this.#offset;
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.#offset;
  }

  /** Moves to an absolute position; the end of the buffer is a valid position, past it is not. */
  seek(offset: number): this {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.bytes.byteLength) {
      throw new RangeError(
        `Cannot seek to offset ${offset}: buffer holds ${this.bytes.byteLength} bytes`,
      );
    }
    this.#offset = offset;
    return this;
  }

  skip(count: number): this {
    return this.seek(this.#offset + this.#need(count));
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  i8(): number {
    return this.#view.getInt8(this.#take(1));
  }

  u16le(): number {
    return this.#view.getUint16(this.#take(2), true);
  }

  u16be(): number {
    return this.#view.getUint16(this.#take(2), false);
  }

  u32le(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  u32be(): number {
    return this.#view.getUint32(this.#take(4), false);
  }

  i32le(): number {
    return this.#view.getInt32(this.#take(4), true);
  }

  i32be(): number {
    return this.#view.getInt32(this.#take(4), false);
  }

  u64le(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  u64be(): bigint {
    return this.#view.getBigUint64(this.#take(8), false);
  }

  i64le(): bigint {
    return this.#view.getBigInt64(this.#take(8), true);
  }

  /** A view (not a copy) of the next `count` bytes. */
  bytesView(count: number): Uint8Array {
    const start = this.#take(count);
    return this.bytes.subarray(start, start + count);
  }

  /**
   * A NUL-terminated string of at most `maxLength` bytes. Without a NUL inside the limit it throws,
   * because an unterminated string in guest data is a sign of corruption or attack.
   */
  cstring(maxLength: number, encoding: 'utf8' | 'latin1' = 'utf8'): string {
    const limit = Math.min(this.remaining, maxLength);
    const start = this.#offset;
    const nul = this.bytes.subarray(start, start + limit).indexOf(0);
    if (nul < 0) {
      throw new RangeError(
        `Cannot read string at offset ${start}: no NUL terminator within ${limit} bytes`,
      );
    }
    this.#offset = start + nul + 1;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, nul).toString(encoding);
  }

  #need(count: number): number {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`Cannot read ${count} bytes: the count must be a non-negative integer`);
    }
    if (count > this.remaining) {
      throw new RangeError(
        `Cannot read ${count} bytes at offset ${this.#offset}: only ${this.remaining} remain`,
      );
    }
    return count;
  }

  #take(count: number): number {
    const start = this.#offset;
    this.#offset += this.#need(count);
    return start;
  }
}
