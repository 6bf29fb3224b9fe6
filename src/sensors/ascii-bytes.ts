/**
 * Reading ASCII text in place from a `Buffer` line `[start, end)`: prefix tests, byte search and
 * hex numbers, with no string made. QEMU's `cpu,exec` log runs at ~140 MB/s (lab-notes §4b), so
 * the TCG log parser decodes it from bytes; every function here stays inside `[start, end)`.
 */

// Byte values are literals with their character beside them, not exported constants: V8 reads an
// exported `const` through its module cell on every use, which cost the TCG log parser ~15 %
// (measured); other files use these predicates instead.
const SPACE = 0x20;

/** `0`-`9` (0x30-0x39). */
export function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** `A`-`Z` (0x41-0x5a). */
export function isUpperLetter(byte: number): boolean {
  return byte >= 0x41 && byte <= 0x5a;
}

/** `a`-`z` (0x61-0x7a). */
export function isLowerLetter(byte: number): boolean {
  return byte >= 0x61 && byte <= 0x7a;
}

/** The value of a decimal digit, or -1. */
export function decimalDigit(byte: number): number {
  return isDigit(byte) ? byte - 0x30 : -1;
}

/** The bytes of an ASCII literal, to compare lines against. */
export function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

/** Whether `bytes[start..end)` begins with `prefix`. */
export function hasAt(bytes: Buffer, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i += 1) {
    if (bytes[start + i] !== prefix[i]) return false;
  }
  return true;
}

/** Index of the first `byte` in `[start, end)`, or -1. */
export function find(bytes: Buffer, byte: number, start: number, end: number): number {
  const at = bytes.indexOf(byte, start);
  return at < 0 || at >= end ? -1 : at;
}

/** The value of a lowercase hex digit (`0`-`9`, `a`-`f` = 0x61-0x66), or -1. */
function hexDigit(byte: number): number {
  if (isDigit(byte)) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

/** 1 to 8 lowercase hex digits as a number, or -1. */
function hexNumber(bytes: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 8) return -1;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const digit = hexDigit(bytes[i] as number);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** 1 to 16 hex digits as a bigint, built from two 32-bit halves (no string). */
export function hexBigint(bytes: Buffer, start: number, end: number): bigint | undefined {
  const length = end - start;
  if (length < 1 || length > 16) return undefined;
  const split = Math.max(start, end - 8);
  const low = hexNumber(bytes, split, end);
  const high = split === start ? 0 : hexNumber(bytes, start, split);
  if (low < 0 || high < 0) return undefined;
  return high === 0 ? BigInt(low) : (BigInt(high) << 32n) | BigInt(low);
}

/** A `%016` value at `start`, followed by the line's end or a space. */
export function hex64At(bytes: Buffer, start: number, end: number): bigint | undefined {
  if (start + 16 > end) return undefined;
  if (start + 16 < end && bytes[start + 16] !== SPACE) return undefined;
  return hexBigint(bytes, start, start + 16);
}
