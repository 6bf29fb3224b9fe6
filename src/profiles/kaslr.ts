import { ByteReader } from '../core/index.js';

/** __START_KERNEL_map (arch/x86/include/asm/page_64_types.h): where the kernel image is mapped. */
export const START_KERNEL_MAP = 0xffff_ffff_8000_0000n;

/**
 * The physical address of a kernel-image virtual address (arch/x86/include/asm/page_64.h,
 * __phys_addr_nodebug for addresses above __START_KERNEL_map): `va - __START_KERNEL_map + phys_base`.
 */
export function kernelImagePhysical(va: bigint, physBase: bigint): bigint {
  return va - START_KERNEL_MAP + physBase;
}

/**
 * The handler address of a 64-bit IDT gate (Intel SDM Vol. 3A §6.14.1, Figure 6-8): offset bits
 * 0-15 at bytes 0-1, 16-31 at bytes 6-7, 32-63 at bytes 8-11.
 */
export function idtGateHandler(gate: Uint8Array): bigint {
  const reader = new ByteReader(gate);
  const low = BigInt(reader.seek(0).u16le());
  const middle = BigInt(reader.seek(6).u16le());
  const high = BigInt(reader.seek(8).u32le());
  return (high << 32n) | (middle << 16n) | low;
}

/**
 * The KASLR slide from IDT gate 0 (lab-notes §6): the runtime `asm_exc_divide_error` handler minus
 * its link-time address. Returns undefined when the difference is not a plausible slide (KASLR
 * slides are multiples of CONFIG_PHYSICAL_ALIGN, 2 MiB on x86-64, and below 1 GiB).
 */
export function slideFromIdtGate(
  gate0: Uint8Array,
  linkTimeDivideError: bigint,
): bigint | undefined {
  const slide = idtGateHandler(gate0) - linkTimeDivideError;
  if (slide < 0n || slide >= 1n << 30n || slide % (2n << 20n) !== 0n) return undefined;
  return slide;
}
