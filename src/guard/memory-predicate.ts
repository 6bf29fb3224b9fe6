import { valueMatches, type MemoryMatcher } from './rule.js';

/** Guest memory the matcher may read at a device kick (a few bytes, VMI or a captured sample). */
export type MemoryProbe = (vm: string, address: number, length: number) => Uint8Array | undefined;

/** A guest-physical MMIO range (device BARs), for `overlapsMmio`. */
export interface MmioWindow {
  readonly base: number;
  readonly size: number;
}

/**
 * Evaluates a `memory` matcher at a kick: builds the guest address from the captured address
 * registers (and the kick value for queue entries), follows the pointer hops and tests the fields
 * of the bytes found there. False when any read is missing or short.
 */
export function memoryMatches(
  probe: MemoryProbe | undefined,
  mmioWindows: readonly MmioWindow[],
  vm: string,
  match: MemoryMatcher,
  registers: ReadonlyMap<number, number>,
  kickValue: number,
): boolean {
  const low = registers.get(match.addressFrom);
  if (low === undefined || probe === undefined) return false;
  const high =
    match.addressFromHigh === undefined ? 0 : (registers.get(match.addressFromHigh) ?? 0);
  let address = high * 2 ** 32 + low;
  if (match.entry !== undefined)
    address += Math.max(0, kickValue - match.entry.minus) * match.entry.stride;
  // Each hop is a guest pointer: attacker-controlled, so it is only ever used as a probe address.
  const u32At = (at: number): number | undefined => {
    const bytes = probe(vm, at, 4);
    if (bytes === undefined || bytes.length < 4) return undefined;
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  };
  for (const hop of match.follow) {
    let raw = u32At(address + hop.at);
    if (raw === undefined) return false;
    const terminated = (value: number): boolean =>
      hop.stopBit !== undefined && ((value >>> hop.stopBit) & 1) === 1;
    // Terminated: the list is consumed, the device's own place is the last chance; a zero
    // there means it never started (nothing to inspect).
    if (terminated(raw) && hop.fallbackAt !== undefined) {
      const current = u32At(address + hop.fallbackAt);
      if (current === undefined || (current & hop.mask) === 0) return false;
      raw = current;
    } else if (terminated(raw)) return false;
    address = (raw & hop.mask) >>> 0;
  }
  const bytes = probe(vm, address, match.length);
  if (bytes === undefined || bytes.length < match.length) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const field of match.all) {
    const value =
      field.width === 1
        ? view.getUint8(field.at)
        : field.width === 2
          ? view.getUint16(field.at, true)
          : field.width === 4
            ? view.getUint32(field.at, true)
            : Number(view.getBigUint64(field.at, true));
    if (!valueMatches(field.value, value)) return false;
  }
  if (match.overlapsMmio !== undefined) {
    const target = Number(view.getBigUint64(match.overlapsMmio.at, true));
    if (!mmioWindows.some((window) => target >= window.base && target < window.base + window.size))
      return false;
  }
  return true;
}
