import type { Segment } from './segmented-layer.js';

const FOUR_GIB = 1n << 32n;

/**
 * RAM below 4 GiB on QEMU's i440fx `pc` machine (hw/i386/pc_piix.c): all of it up to 3.5 GiB, else
 * the first 3 GiB (gigabyte-aligned split); the rest is placed from 4 GiB up, above the PCI hole.
 * q35 splits at 2 GiB from 2.75 GiB: pass `belowFourGiB` explicitly there.
 */
export function defaultBelowFourGiB(ramSize: bigint): bigint {
  return ramSize >= 0xe0000000n ? 0xc0000000n : ramSize;
}

/**
 * Where each byte of a guest RAM block (offset 0 = first byte of the block, as in the shared
 * memory backend file or the QEMU mapping) sits in guest physical memory.
 *
 * @example
 * ```ts
 * import { ramLayoutSegments } from './ram-layout.js';
 * ramLayoutSegments(4n << 30n, 0n);
 * // [{ start: 0n, length: 3 GiB, fileOffset: 0n }, { start: 4 GiB, length: 1 GiB, fileOffset: 3 GiB }]
 * ```
 */
export function ramLayoutSegments(
  ramSize: bigint,
  baseOffset: bigint,
  belowFourGiB = defaultBelowFourGiB(ramSize),
): Segment[] {
  const below = belowFourGiB < ramSize ? belowFourGiB : ramSize;
  const segments: Segment[] = [{ start: 0n, length: below, fileOffset: baseOffset }];
  if (ramSize > below) {
    segments.push({ start: FOUR_GIB, length: ramSize - below, fileOffset: baseOffset + below });
  }
  return segments;
}
