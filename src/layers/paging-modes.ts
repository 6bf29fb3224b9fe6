/**
 * x86-64 paging structures as data (Intel SDM Vol. 3A §4.5 "4-level paging and 5-level paging"),
 * walked by one {@link PageTableWalker}, in the manner of Volatility's `Intel32e._structure`.
 */

/** One level of the paging hierarchy, from the root down. */
export interface PagingLevel {
  /** Table name as the SDM writes it: PML5, PML4, PDPT, PD, PT. */
  readonly name: string;
  /** Name of one entry of this table, for messages: PML4E, PDPTE, PDE, PTE. */
  readonly entryName: string;
  /** Lowest linear-address bit of this level's 9-bit index (SDM Figures 4-8 to 4-11). */
  readonly shift: number;
  /**
   * Whether bit 7 (PS) of an entry here maps a page of `2^shift` bytes instead of pointing at the
   * next table: PDPTE → 1 GiB page (SDM Table 4-16), PDE → 2 MiB page (Table 4-18). In a PML5E or
   * PML4E bit 7 is reserved (Tables 4-14/4-15); a PTE always maps a 4 KiB page.
   */
  readonly pageSizeBit: 'leaf-if-set' | 'reserved' | 'always-leaf';
}

export interface PagingMode {
  readonly name: '4-level' | '5-level';
  /** Linear-address width: addresses are canonical when bits 63:(vaBits-1) are all equal. */
  readonly vaBits: number;
  readonly levels: readonly PagingLevel[];
}

/** Entries per table and index width: 512 eight-byte entries in a 4 KiB page. */
export const ENTRIES_PER_TABLE = 512;
export const INDEX_BITS = 9;
export const TABLE_BYTES = 4096;

/** Entry bits (SDM Tables 4-14 to 4-20). */
export const ENTRY_BITS = {
  /** Bit 0: present. */
  present: 0,
  /** Bit 7: page size in a PDPTE/PDE. */
  pageSize: 7,
  /** Bits 51:12 hold the next table's or the 4 KiB page's physical address (M = 52 at most). */
  addressLow: 12,
  addressHigh: 51,
  /** Bit 63: execute-disable. */
  executeDisable: 63,
} as const;

const PML5: PagingLevel = { name: 'PML5', entryName: 'PML5E', shift: 48, pageSizeBit: 'reserved' };
const PML4: PagingLevel = { name: 'PML4', entryName: 'PML4E', shift: 39, pageSizeBit: 'reserved' };
const PDPT: PagingLevel = {
  name: 'PDPT',
  entryName: 'PDPTE',
  shift: 30,
  pageSizeBit: 'leaf-if-set',
};
const PD: PagingLevel = { name: 'PD', entryName: 'PDE', shift: 21, pageSizeBit: 'leaf-if-set' };
const PT: PagingLevel = { name: 'PT', entryName: 'PTE', shift: 12, pageSizeBit: 'always-leaf' };

/** 4-level paging: CR4.PAE=1, IA32_EFER.LME=1, CR4.LA57=0; 48-bit linear addresses. */
export const PAGING_4_LEVEL: PagingMode = {
  name: '4-level',
  vaBits: 48,
  levels: [PML4, PDPT, PD, PT],
};

/** 5-level paging: CR4.LA57=1; 57-bit linear addresses, PML5 above PML4 (SDM §4.5.1). */
export const PAGING_5_LEVEL: PagingMode = {
  name: '5-level',
  vaBits: 57,
  levels: [PML5, PML4, PDPT, PD, PT],
};

/** CR4 bit 12 (LA57) selects 5-level paging (SDM §2.5, §4.5). */
export const CR4_LA57 = 1n << 12n;

/**
 * The paging mode a CPU with this CR4 uses in IA-32e mode.
 *
 * @example
 * ```ts
 * import { pagingModeForCr4 } from './paging-modes.js';
 * pagingModeForCr4(0x751ef0n).name; // '5-level' (QEMU -cpu max booting a bzImage)
 * ```
 */
export function pagingModeForCr4(cr4: bigint): PagingMode {
  return (cr4 & CR4_LA57) !== 0n ? PAGING_5_LEVEL : PAGING_4_LEVEL;
}

/** CR3 bits 51:12 hold the root table address; bits 11:0 are PCID or PWT/PCD, bit 63 no-flush. */
export const CR3_ADDRESS_MASK = 0x000f_ffff_ffff_f000n;
