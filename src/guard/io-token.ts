import { IO_STRIDE } from './io-window.js';

/**
 * The I/O token of an access for sequence models: which register was touched and how (kind,
 * address, width), never the value, so a model sees the device protocol and not the data.
 */
export function ioToken(kind: number, address: number, size: number): number {
  let hash = 0x811c9dc5;
  hash = Math.imul(hash ^ kind, 0x01000193);
  hash = Math.imul(hash ^ (address % 0x1_0000_0000), 0x01000193);
  hash = Math.imul(hash ^ Math.floor(address / 0x1_0000_0000), 0x01000193);
  hash = Math.imul(hash ^ size, 0x01000193);
  // 20 bits: plenty of distinct registers, small enough for dense model tables.
  return (hash >>> 0) & 0xfffff;
}

/** Tokens of accesses `[start, start + count)` of an encoded window. */
export function ioTokens(
  io: Float64Array,
  start: number,
  count: number,
  out = new Uint32Array(count),
  at = 0,
): Uint32Array {
  for (let i = 0; i < count; i += 1) {
    const base = (start + i) * IO_STRIDE;
    out[at + i] = ioToken(io[base] as number, io[base + 1] as number, io[base + 3] as number);
  }
  return out;
}
