/** Formats a guest address or offset as `0x`-prefixed lowercase hex, the way QEMU and GDB print it. */
export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/**
 * Parses an unsigned integer written in decimal or `0x` hex (as users type addresses) into a
 * `bigint`. Returns `undefined` for anything else, so callers can name the bad value in their error.
 */
export function parseUnsigned(text: string): bigint | undefined {
  const trimmed = text.trim().replaceAll('_', '');
  if (/^0x[0-9a-f]+$/i.test(trimmed) || /^[0-9]+$/.test(trimmed)) {
    return BigInt(trimmed);
  }
  return undefined;
}
