import { VmsightError, hex } from '../core/index.js';
import {
  CR3_ADDRESS_MASK,
  PageTableWalker,
  VirtualLayer,
  pagingModeForCr4,
  type PhysicalLayer,
} from '../layers/index.js';
import { SymbolTable, readIsfFile } from '../symbols/index.js';
import { START_KERNEL_MAP, slideFromIdtGate } from './kaslr.js';
import { readCString, type KernelProfile } from './kernel-profile.js';

/** vCPU state: from a dump's QEMU note, or HMP `info registers` on a live VM. */
export interface CpuControlState {
  readonly cr3: bigint;
  readonly cr4: bigint;
  /** IDTR base: the CPU entry area (fixed virtual address since Linux 4.15). */
  readonly idtBase: bigint;
}

/** Under PTI the user PGD is the upper 4 KiB of an 8 KiB pair (PTI_USER_PGTABLE_BIT = PAGE_SHIFT). */
const PTI_USER_PGTABLE_BIT = 1n << 12n;

/**
 * A kernel profile for a guest without VMCOREINFO, given an ISF for its kernel: the KASLR slide is
 * IDT gate 0's handler minus the ISF's (link-time) `asm_exc_divide_error` (lab-notes §6), the page
 * tables are the vCPU's CR3 (or, under PTI, its kernel half), and phys_base follows from where
 * `init_top_pgt` translates.
 *
 * @example
 * ```ts
 * import { openKernelProfileFromIdt } from './idt-profile.js';
 * declare const layer: import('../layers/index.js').PhysicalLayer;
 * const profile = await openKernelProfileFromIdt(layer, {
 *   isf: 'debian-6.1.0-56-amd64.json.xz',
 *   cpu: { cr3: 0x2a10000n, cr4: 0x750ef0n, idtBase: 0xfffffe0000000000n },
 * });
 * ```
 */
export async function openKernelProfileFromIdt(
  layer: PhysicalLayer,
  options: { readonly isf: string; readonly cpu: CpuControlState },
): Promise<KernelProfile> {
  const isf = await readIsfFile(options.isf);
  const unslid = new SymbolTable(isf);
  const divideError = unslid.requireAddress('asm_exc_divide_error');
  const mode = pagingModeForCr4(options.cpu.cr4);
  const walker = new PageTableWalker(layer, mode);
  const root = options.cpu.cr3 & CR3_ADDRESS_MASK;
  let slide: bigint | undefined;
  let kernelRoot = root;
  for (const cr3 of [root, root & ~PTI_USER_PGTABLE_BIT]) {
    kernelRoot = cr3;
    try {
      slide = slideFromIdtGate(
        new VirtualLayer(walker, cr3).read(options.cpu.idtBase, 16),
        divideError,
      );
    } catch {
      slide = undefined;
    }
    if (slide !== undefined) break;
  }
  if (slide === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot find the KASLR slide: IDT gate 0 at ${hex(options.cpu.idtBase)} does not point near asm_exc_divide_error`,
    );
  }
  const symbols = new SymbolTable(isf, { slide });
  const topPgt = symbols.requireAddress('init_top_pgt');
  const hit = walker.translate(kernelRoot, topPgt);
  if (!hit.ok) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot translate init_top_pgt ${hex(topPgt)} with CR3 ${hex(kernelRoot)}`,
    );
  }
  const kernelCr3 = hit.physical;
  const physBase = kernelCr3 - (topPgt - START_KERNEL_MAP);
  const kernel = new VirtualLayer(walker, kernelCr3);
  const bannerAddress = symbols.address('linux_banner');
  return {
    layer,
    walker,
    kernel,
    symbols,
    vmcoreinfo: undefined,
    banner:
      bannerAddress === undefined ? '' : readCString((va, n) => kernel.read(va, n), bannerAddress),
    buildId: undefined,
    slide,
    physBase,
    la57: mode.levels.length === 5,
    kernelCr3,
    source: 'isf+idt',
    addressSpace: (cr3) => new VirtualLayer(walker, cr3),
  };
}
