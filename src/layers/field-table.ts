import { ByteReader } from '../core/index.js';

/** A little-endian unsigned field at a fixed offset of a structure (STYLE.md habit 5). */
export interface Field {
  readonly offset: number;
  readonly width: 1 | 2 | 4 | 8;
}

export type FieldTable = Readonly<Record<string, Field>>;

/** Decoded values: 8-byte fields as bigint (addresses, offsets), narrower ones as numbers. */
export type Fields<T extends FieldTable> = {
  readonly [K in keyof T]: T[K]['width'] extends 8 ? bigint : number;
};

/** Size in bytes covered by a table: the end of its last field. */
export function tableSize(table: FieldTable): number {
  return Math.max(...Object.values(table).map((field) => field.offset + field.width));
}

/**
 * Reads every field of `table` from `bytes` at `base`, bounds-checked by {@link ByteReader}: a
 * structure cut short throws `RangeError`, which callers turn into `TRUNCATED_INPUT`.
 */
export function readFields<T extends FieldTable>(bytes: Uint8Array, table: T, base = 0): Fields<T> {
  const reader = new ByteReader(bytes);
  const out: Record<string, number | bigint> = Object.create(null) as Record<string, never>;
  for (const [name, field] of Object.entries(table)) {
    reader.seek(base + field.offset);
    out[name] =
      field.width === 1
        ? reader.u8()
        : field.width === 2
          ? reader.u16le()
          : field.width === 4
            ? reader.u32le()
            : reader.u64le();
  }
  return out as Fields<T>;
}
