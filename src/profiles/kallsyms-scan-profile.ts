import { VmsightError, hex } from '../core/index.js';
import {
  PAGING_4_LEVEL,
  PAGING_5_LEVEL,
  PageTableWalker,
  type PhysicalLayer,
} from '../layers/index.js';
import {
  decodeKallsyms,
  scanKallsymsTables,
  type KallsymsOptions,
  type KallsymsScanOptions,
  type KernelSymbol,
} from '../symbols/index.js';
import { START_KERNEL_MAP, kernelImagePhysical } from './kaslr.js';

/** What VMCOREINFO would have said, recovered from the kallsyms tables found in memory. */
export interface ScannedKernel {
  readonly symbols: KernelSymbol[];
  readonly slide: bigint;
  readonly physBase: bigint;
  readonly la57: boolean;
  /** Physical address of init_top_pgt. */
  readonly kernelCr3: bigint;
}

/**
 * __START_KERNEL (arch/x86/include/asm/page_64_types.h): __START_KERNEL_map + CONFIG_PHYSICAL_START,
 * 16 MiB in Debian's (and the default) x86-64 config; kaslr_offset() is `_text` minus this
 * (arch/x86/include/asm/setup.h).
 */
const START_KERNEL = START_KERNEL_MAP + 0x100_0000n;
/** CONFIG_PHYSICAL_ALIGN: the kernel is loaded, and slid, in 2 MiB steps. */
const PHYSICAL_ALIGN = 0x20_0000n;
/** KERNEL_IMAGE_SIZE (arch/x86/include/asm/page_64_types.h with KASLR): 1 GiB. */
const KERNEL_IMAGE_SIZE = 1n << 30n;
/** The lowest direct-map base with 4-level paging (Documentation/x86/x86_64/mm.rst). */
const FOUR_LEVEL_DIRECT_MAP = 0xffff_8880_0000_0000n;

/**
 * Locates the kernel in guest memory without VMCOREINFO: the kallsyms tables are found by their
 * structure (symbols/kallsyms-scanner.ts) and decoded straight from physical memory; their
 * addresses are the runtime (slid) ones, since `kallsyms_relative_base` is relocated at boot. The
 * KASLR slide is `_text - __START_KERNEL`; phys_base is the 2 MiB step that puts the image where
 * the tables were found and whose `init_top_pgt` maps `linux_banner` and itself there (checked by
 * walking those page tables); 5-level paging is read from `page_offset_base` (a direct-map base
 * below the 4-level one means LA57).
 */
export function locateKernelByKallsyms(
  layer: PhysicalLayer,
  options: {
    readonly scan?: KallsymsScanOptions | undefined;
    readonly kallsyms?: KallsymsOptions | undefined;
  } = {},
): ScannedKernel {
  const found = scanKallsymsTables(layer, options.scan);
  if (found === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      'Cannot find VMCOREINFO or the kallsyms tables in guest memory: give an ISF with --isf',
    );
  }
  const symbols = decodeKallsyms((pa, n) => layer.read(pa, n), found.tables, options.kallsyms);
  const address = (name: string): bigint => {
    const symbol = symbols.find((s) => s.name === name);
    if (symbol === undefined) {
      throw new VmsightError('NOT_FOUND', `The kallsyms found in memory have no "${name}"`);
    }
    return symbol.address;
  };
  const text = address('_text');
  const topPgt = address('init_top_pgt');
  const banner = address('linux_banner');
  const slide = text - START_KERNEL;
  // The tables lie in the image, between _text and _text + KERNEL_IMAGE_SIZE, physically too.
  const tables = found.tables.tokenTable;
  // phys_base = pa(_text) - (_text - __START_KERNEL_map): a multiple of 2 MiB.
  const highest = tables - (text - START_KERNEL_MAP);
  const lowest = highest - KERNEL_IMAGE_SIZE;
  const first = lowest - (((lowest % PHYSICAL_ALIGN) + PHYSICAL_ALIGN) % PHYSICAL_ALIGN);
  const pageOffsetSymbol = symbols.find((s) => s.name === 'page_offset_base');
  for (let physBase = first; physBase <= highest; physBase += PHYSICAL_ALIGN) {
    const cr3 = kernelImagePhysical(topPgt, physBase);
    if (cr3 < 0n || !layer.isValid(cr3, 4096)) continue;
    let modes = [PAGING_4_LEVEL, PAGING_5_LEVEL];
    if (pageOffsetSymbol !== undefined) {
      const at = kernelImagePhysical(pageOffsetSymbol.address, physBase);
      if (!layer.isValid(at, 8)) continue;
      const base = Buffer.from(layer.read(at, 8)).readBigUInt64LE();
      modes = [base < FOUR_LEVEL_DIRECT_MAP ? PAGING_5_LEVEL : PAGING_4_LEVEL];
    }
    for (const mode of modes) {
      const walker = new PageTableWalker(layer, mode);
      const self = walker.translate(cr3, topPgt);
      const bannerHit = walker.translate(cr3, banner);
      if (!self.ok || self.physical !== cr3 || !bannerHit.ok) continue;
      if (bannerHit.physical === kernelImagePhysical(banner, physBase)) {
        return { symbols, slide, physBase, la57: mode === PAGING_5_LEVEL, kernelCr3: cr3 };
      }
    }
  }
  throw new VmsightError(
    'NOT_FOUND',
    `Found kallsyms at physical ${hex(tables)} but no page tables that map the kernel image there`,
  );
}
