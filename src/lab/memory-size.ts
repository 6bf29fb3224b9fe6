import { VmsightError } from '../core/index.js';

const UNITS: Readonly<Record<string, number>> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
/** Below this the Debian kernel does not get to /init; above it the guest RAM leaves the low 4 GiB. */
const MIN_BYTES = 64 * 2 ** 20;
const MAX_BYTES = 3 * 2 ** 30;

/**
 * Parses a QEMU `-m` size ("256M", "1G", "512": a bare number is MiB, as for `-m`) into bytes.
 * The lab keeps guests below the 32-bit PCI hole (lab-notes §10), so the shared-memory file offset
 * equals the guest physical address.
 *
 * @example
 * ```ts
 * import { parseMemorySize } from './memory-size.js';
 * parseMemorySize('256M'); // 268435456
 * ```
 */
export function parseMemorySize(text: string): number {
  const match = /^(\d+)([KMGT])?i?B?$/i.exec(text.trim());
  const digits = match?.[1];
  if (match === null || digits === undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot parse memory size "${text}": expected a number with K, M or G, like "256M"`,
    );
  }
  const bytes = Number(digits) * (UNITS[(match[2] ?? 'M').toUpperCase()] ?? 1);
  if (bytes < MIN_BYTES || bytes > MAX_BYTES || bytes % 2 ** 20 !== 0) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot use memory size "${text}": the lab needs whole MiB between 64M and 3G`,
    );
  }
  return bytes;
}
