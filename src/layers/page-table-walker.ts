import { VmsightError, hex } from '../core/index.js';
import { InvalidAddressError } from './invalid-address-error.js';
import { PageTableCache, type PageTableCacheOptions } from './page-table-cache.js';
import {
  CR3_ADDRESS_MASK,
  ENTRIES_PER_TABLE,
  INDEX_BITS,
  type PagingLevel,
  type PagingMode,
} from './paging-modes.js';
import type { PhysicalLayer } from './physical-layer.js';

/** A linear address that maps to `physical` through a page of `pageSize` bytes. */
export interface TranslationHit {
  readonly ok: true;
  readonly physical: bigint;
  readonly pageSize: number;
  /** The level whose entry mapped the page: PT (4 KiB), PD (2 MiB) or PDPT (1 GiB). */
  readonly level: string;
}

/** Why a linear address does not translate, and where the walk stopped. */
export interface TranslationFault {
  readonly ok: false;
  readonly reason: 'non-canonical' | 'not-present' | 'reserved-bit' | 'table-unreadable';
  /** Table whose entry failed (absent for non-canonical addresses). */
  readonly level?: string;
  readonly entryName?: string;
  readonly entryIndex?: number;
  readonly entry?: bigint;
  /** Physical address of the table that failed or could not be read. */
  readonly tableAddress?: bigint;
}

export type Translation = TranslationHit | TranslationFault;

/** One page mapping found by {@link PageTableWalker.mappings}. */
export interface PageMapping {
  readonly virtual: bigint;
  readonly physical: bigint;
  readonly size: number;
}

export interface MappingsOptions {
  /** Only mappings overlapping `[start, end)` (canonical addresses). Default: the whole space. */
  readonly start?: bigint;
  readonly end?: bigint;
  /**
   * Tables visited at most. Guest page tables are hostile input: a crafted hierarchy whose entries
   * all point at the same table would otherwise make us read 512^4 entries. Default 16,384 (64 MiB
   * of tables, far more than a guest of a few GiB uses).
   */
  readonly maxTables?: number;
  /** Mappings yielded at most. Default 4,194,304 (16 GiB of 4 KiB pages). */
  readonly maxMappings?: number;
}

export const DEFAULT_MAX_TABLES = 16_384;
export const DEFAULT_MAX_MAPPINGS = 4_194_304;

const TWO_32 = 4294967296;
const U64_MAX = (1n << 64n) - 1n;

/**
 * The one x86-64 page-table walker, driven by a {@link PagingMode} table (SDM Vol. 3A §4.5).
 *
 * The hot path works on 32-bit halves of addresses and entries (numbers, not bigint) and memoises
 * the last table of each level, so a warm walk costs a few array reads; physical addresses stay
 * below 2^52 and are exact as numbers.
 *
 * @example
 * ```ts
 * import { openRawLayer } from './raw-layer.js';
 * import { PAGING_4_LEVEL } from './paging-modes.js';
 * import { PageTableWalker } from './page-table-walker.js';
 * const walker = new PageTableWalker(openRawLayer('ram.bin'), PAGING_4_LEVEL);
 * const result = walker.translate(0x2a10000n, 0xffffffff82a1aa40n);
 * if (result.ok) console.log(result.physical); // 0x2a1aa40n on the nokaslr lab guest
 * ```
 */
export class PageTableWalker {
  readonly mode: PagingMode;
  readonly layer: PhysicalLayer;
  readonly cache: PageTableCache;
  #levels: readonly PagingLevel[];
  #shifts: Int32Array;
  #leafKind: Int32Array; // 0 reserved PS, 1 leaf if PS, 2 always leaf
  #canonicalShift: number;
  #canonicalOnes: number;
  #memoAddress: Float64Array;
  #memoTable: (Uint32Array | undefined)[];

  constructor(layer: PhysicalLayer, mode: PagingMode, options: PageTableCacheOptions = {}) {
    this.layer = layer;
    this.mode = mode;
    this.cache = new PageTableCache(layer, options);
    this.#levels = mode.levels;
    this.#shifts = Int32Array.from(mode.levels, (level) => level.shift);
    this.#leafKind = Int32Array.from(mode.levels, (level) =>
      level.pageSizeBit === 'reserved' ? 0 : level.pageSizeBit === 'leaf-if-set' ? 1 : 2,
    );
    // Canonical: bits 63:(vaBits-1) equal (SDM §3.3.7.1); checked on the high 32-bit half.
    this.#canonicalShift = mode.vaBits - 1 - 32;
    this.#canonicalOnes = 2 ** (64 - mode.vaBits + 1) - 1;
    this.#memoAddress = new Float64Array(mode.levels.length).fill(-1);
    this.#memoTable = mode.levels.map(() => undefined);
  }

  /** Forgets cached tables: call after the guest ran (live layers). */
  invalidate(): void {
    this.cache.clear();
    this.#memoAddress.fill(-1);
    this.#memoTable.fill(undefined);
    this.layer.invalidate();
  }

  /** Translates linear address `va` with the hierarchy rooted at `cr3`. */
  translate(cr3: bigint, va: bigint): Translation {
    if (va < 0n || va > U64_MAX) {
      throw new RangeError(`Address ${va} is not a 64-bit unsigned value`);
    }
    const lo = Number(va & 0xffffffffn);
    const hi = Number(va >> 32n);
    const top = hi >>> this.#canonicalShift;
    if (top !== 0 && top !== this.#canonicalOnes) return { ok: false, reason: 'non-canonical' };
    let table = Number(cr3 & CR3_ADDRESS_MASK);
    const count = this.#shifts.length;
    for (let depth = 0; depth < count; depth += 1) {
      const shift = this.#shifts[depth] ?? 0;
      const index =
        shift >= 32
          ? (hi >>> (shift - 32)) & 0x1ff
          : shift + INDEX_BITS <= 32
            ? (lo >>> shift) & 0x1ff
            : ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff;
      let words: Uint32Array | undefined;
      if (this.#memoAddress[depth] === table) {
        words = this.#memoTable[depth];
      } else {
        words = this.cache.get(table);
        if (words === undefined) return this.#fault('table-unreadable', depth, index, table);
        this.#memoAddress[depth] = table;
        this.#memoTable[depth] = words;
      }
      const entryLow = words![index * 2] ?? 0;
      const entryHigh = words![index * 2 + 1] ?? 0;
      // Bit 0 (P): a clear bit ends the walk with a page fault (SDM §4.7).
      if ((entryLow & 1) === 0) {
        return this.#fault('not-present', depth, index, table, entryLow, entryHigh);
      }
      const kind = this.#leafKind[depth];
      const pageSizeSet = (entryLow & 0x80) !== 0;
      if (kind === 2 || (kind === 1 && pageSizeSet)) {
        // Bits 51:shift of the entry are the page frame; PAT (bit 12) and reserved bits below the
        // frame of a large page are dropped by the mask (SDM Tables 4-16, 4-18).
        const offsetMask = shift >= 31 ? 0x7fffffff : (1 << shift) - 1;
        const frame =
          (entryHigh & 0xfffff) * TWO_32 + ((entryLow & ~offsetMask & 0xfffff000) >>> 0);
        return {
          ok: true,
          physical: BigInt(frame + (lo & offsetMask)),
          pageSize: 2 ** shift,
          level: this.#levels[depth]?.name ?? '',
        };
      }
      if (kind === 0 && pageSizeSet) {
        return this.#fault('reserved-bit', depth, index, table, entryLow, entryHigh);
      }
      table = (entryHigh & 0xfffff) * TWO_32 + ((entryLow & 0xfffff000) >>> 0);
    }
    throw new VmsightError('INTERNAL', `Paging mode ${this.mode.name} has no leaf level`);
  }

  /** Like {@link translate}, but throws an {@link InvalidAddressError} for a fault. */
  translateOrThrow(cr3: bigint, va: bigint): bigint {
    const result = this.translate(cr3, va);
    if (result.ok) return result.physical;
    throw faultError(result, va, this.mode.name);
  }

  /**
   * Every present page mapping of the hierarchy rooted at `cr3`, in address order. Bounded by
   * `maxTables` and `maxMappings` (`LIMIT_EXCEEDED` past them); depth is fixed by the mode.
   */
  *mappings(cr3: bigint, options: MappingsOptions = {}): Generator<PageMapping> {
    const start = options.start ?? 0n;
    const end = options.end ?? 1n << 64n;
    const budget = {
      tables: options.maxTables ?? DEFAULT_MAX_TABLES,
      mappings: options.maxMappings ?? DEFAULT_MAX_MAPPINGS,
    };
    yield* this.#walkTable(Number(cr3 & CR3_ADDRESS_MASK), 0, 0n, start, end, budget);
  }

  *#walkTable(
    table: number,
    depth: number,
    prefix: bigint,
    start: bigint,
    end: bigint,
    budget: { tables: number; mappings: number },
  ): Generator<PageMapping> {
    const level = this.#levels[depth];
    if (level === undefined) return;
    if (budget.tables <= 0) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `Cannot enumerate page mappings: more than the allowed number of page tables were visited (a looping or hostile hierarchy)`,
      );
    }
    budget.tables -= 1;
    const words = this.cache.get(table);
    if (words === undefined) return;
    const shift = BigInt(level.shift);
    const span = 1n << shift;
    const whole = start === 0n && end >= 1n << 64n;
    const kind = this.#leafKind[depth];
    for (let index = 0; index < ENTRIES_PER_TABLE; index += 1) {
      const entryLow = words[index * 2] ?? 0;
      if ((entryLow & 1) === 0) continue;
      const entryHigh = words[index * 2 + 1] ?? 0;
      const raw = prefix | (BigInt(index) << shift);
      const virtual = this.#signExtend(raw);
      if (!whole && (virtual + span <= start || virtual >= end)) continue;
      const pageSizeSet = (entryLow & 0x80) !== 0;
      const base = (entryHigh & 0xfffff) * TWO_32 + ((entryLow & 0xfffff000) >>> 0);
      if (kind === 2 || (kind === 1 && pageSizeSet)) {
        if (budget.mappings <= 0) {
          throw new VmsightError(
            'LIMIT_EXCEEDED',
            `Cannot enumerate page mappings: more than the allowed number of mappings were found`,
          );
        }
        budget.mappings -= 1;
        const frame = base - (base % 2 ** level.shift);
        yield { virtual, physical: BigInt(frame), size: 2 ** level.shift };
      } else if (kind === 1 || !pageSizeSet) {
        yield* this.#walkTable(base, depth + 1, raw, start, end, budget);
      }
    }
  }

  #signExtend(raw: bigint): bigint {
    const bits = BigInt(this.mode.vaBits);
    return (raw & (1n << (bits - 1n))) !== 0n ? raw | (U64_MAX ^ ((1n << bits) - 1n)) : raw;
  }

  #fault(
    reason: TranslationFault['reason'],
    depth: number,
    index: number,
    table: number,
    entryLow?: number,
    entryHigh?: number,
  ): TranslationFault {
    const level = this.#levels[depth];
    return {
      ok: false,
      reason,
      level: level?.name ?? '',
      entryName: level?.entryName ?? '',
      entryIndex: index,
      ...(entryLow === undefined
        ? {}
        : { entry: (BigInt(entryHigh ?? 0) << 32n) | BigInt(entryLow >>> 0) }),
      tableAddress: BigInt(table),
    };
  }
}

/**
 * The error for a fault, worded as STYLE.md asks:
 * `Cannot translate address 0xffff888000001000: PML4 entry 0x1ab is not present`.
 */
export function faultError(
  fault: TranslationFault,
  va: bigint,
  layer: string,
): InvalidAddressError {
  const where = `${fault.level ?? ''} entry ${hex(fault.entryIndex ?? 0)}`;
  const why =
    fault.reason === 'non-canonical'
      ? 'it is not canonical'
      : fault.reason === 'not-present'
        ? `${where} is not present`
        : fault.reason === 'reserved-bit'
          ? `${where} has the reserved page-size bit set`
          : `${fault.level ?? ''} table at physical ${hex(fault.tableAddress ?? 0n)} is not readable`;
  return new InvalidAddressError(`Cannot translate address ${hex(va)}: ${why}`, {
    layer,
    address: va,
    ...(fault.level === undefined ? {} : { level: fault.level }),
    ...(fault.entryIndex === undefined ? {} : { entryIndex: fault.entryIndex }),
    ...(fault.entry === undefined ? {} : { entry: fault.entry }),
  });
}
