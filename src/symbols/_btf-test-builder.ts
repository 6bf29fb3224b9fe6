/**
 * Builds BTF blobs by hand for tests, following Linux Documentation/bpf/btf.rst §2 byte for byte,
 * so parser tests do not depend on a compiler or pahole.
 */
export class BtfBlobBuilder {
  readonly #strings: number[] = [0];
  readonly #names = new Map<string, number>();
  readonly #types: number[] = [];
  #count = 0;

  name(text: string): number {
    if (text === '') return 0;
    const known = this.#names.get(text);
    if (known !== undefined) return known;
    const offset = this.#strings.length;
    this.#strings.push(...Buffer.from(text, 'latin1'), 0);
    this.#names.set(text, offset);
    return offset;
  }

  /** Appends one btf_type and its trailing words; returns the new type id. */
  type(
    kind: number,
    options: { name?: string; vlen?: number; kindFlag?: boolean; sizeOrType?: number },
    extra: readonly number[] = [],
  ): number {
    const info =
      ((options.vlen ?? 0) & 0xffff) |
      ((kind & 0x1f) << 24) |
      (options.kindFlag === true ? 0x8000_0000 : 0);
    this.#types.push(this.name(options.name ?? ''), info >>> 0, options.sizeOrType ?? 0, ...extra);
    this.#count += 1;
    return this.#count;
  }

  /** The blob: header (24 bytes), types, strings. */
  build(overrides: { magic?: number; typeLen?: number; strLen?: number } = {}): Uint8Array {
    const typeBytes = this.#types.length * 4;
    const out = Buffer.alloc(24 + typeBytes + this.#strings.length);
    out.writeUInt16LE(overrides.magic ?? 0xeb9f, 0);
    out.writeUInt8(1, 2);
    out.writeUInt8(0, 3);
    out.writeUInt32LE(24, 4);
    out.writeUInt32LE(0, 8);
    out.writeUInt32LE(overrides.typeLen ?? typeBytes, 12);
    out.writeUInt32LE(typeBytes, 16);
    out.writeUInt32LE(overrides.strLen ?? this.#strings.length, 20);
    this.#types.forEach((word, index) => out.writeUInt32LE(word >>> 0, 24 + index * 4));
    Buffer.from(this.#strings).copy(out, 24 + typeBytes);
    return new Uint8Array(out);
  }
}
