import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning, SymbolTable } from '../../symbols/index.js';
import { mapleLayout, walkMapleTree, type MapleLayout } from './maple-tree.js';

/** One vm_area_struct, decoded. */
export interface VmaInfo {
  readonly vma: bigint;
  readonly start: bigint;
  /** Exclusive, as in /proc/PID/maps. */
  readonly end: bigint;
  readonly flags: bigint;
  /** In pages. */
  readonly pgoff: bigint;
  readonly file: bigint;
  readonly ops: bigint;
  readonly privateData: bigint;
}

export interface VmaLayout {
  readonly size: number;
  readonly start: number;
  readonly end: number;
  readonly flags: number;
  readonly pgoff: number;
  readonly file: number;
  readonly ops: number;
  readonly privateData: number;
  /** mm_struct.mm_mt (Linux 6.1+), or undefined on kernels with the VMA list. */
  readonly mmTree: number | undefined;
  /** mm_struct.mmap and vm_area_struct.vm_next (before Linux 6.1). */
  readonly mmList: { readonly mmap: number; readonly next: number } | undefined;
  readonly maple: MapleLayout;
}

export function vmaLayout(symbols: SymbolTable): VmaLayout {
  const offset = (name: string): number => symbols.offsetOf('vm_area_struct', name);
  const mmTree = symbols.member('mm_struct', 'mm_mt')?.offset;
  const mmap = symbols.member('mm_struct', 'mmap')?.offset;
  const next = symbols.member('vm_area_struct', 'vm_next')?.offset;
  return {
    size: symbols.sizeOf('vm_area_struct'),
    start: offset('vm_start'),
    end: offset('vm_end'),
    flags: offset('vm_flags'),
    pgoff: offset('vm_pgoff'),
    file: offset('vm_file'),
    ops: offset('vm_ops'),
    privateData: offset('vm_private_data'),
    mmTree: mmTree === undefined ? undefined : mmTree + symbols.offsetOf('maple_tree', 'ma_root'),
    mmList: mmap !== undefined && next !== undefined ? { mmap, next } : undefined,
    maple: mapleLayout(symbols),
  };
}

export interface VmaWalkOptions {
  readonly warn: (warning: IntrospectionWarning) => void;
  /** VMAs read at most per process. Default 262,144 (vm.max_map_count defaults to 65,530). */
  readonly maxVmas?: number | undefined;
}

function readVma(
  profile: KernelProfile,
  layout: VmaLayout,
  vma: bigint,
  warn: (warning: IntrospectionWarning) => void,
): { info: VmaInfo; next: bigint } | undefined {
  let view: DataView;
  try {
    const bytes = profile.kernel.read(vma, layout.size);
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    warn({
      code: 'unreadable-memory',
      message: `Cannot read vm_area_struct ${hex(vma)}: ${(error as Error).message}`,
      address: vma,
    });
    return undefined;
  }
  const u64 = (offset: number): bigint => view.getBigUint64(offset, true);
  const info = {
    vma,
    start: u64(layout.start),
    end: u64(layout.end),
    flags: u64(layout.flags),
    pgoff: u64(layout.pgoff),
    file: u64(layout.file),
    ops: u64(layout.ops),
    privateData: u64(layout.privateData),
  };
  return { info, next: layout.mmList === undefined ? 0n : u64(layout.mmList.next) };
}

/**
 * The VMAs of one mm_struct in address order: from the maple tree `mm->mm_mt` on Linux 6.1+ (each
 * entry covers vm_start..vm_end - 1, mm/mmap.c vma_mas_store()), or from the `mm->mmap` list linked
 * through `vm_next` on older kernels. A VMA whose range disagrees with its tree slot, or that does
 * not follow the previous one, is reported and skipped.
 */
export function* walkVmas(
  profile: KernelProfile,
  layout: VmaLayout,
  mm: bigint,
  options: VmaWalkOptions,
): Generator<VmaInfo> {
  const { warn } = options;
  const maxVmas = options.maxVmas ?? 262_144;
  const what = `VMA tree of mm ${hex(mm)}`;
  let count = 0;
  let previousEnd = 0n;
  const accept = (info: VmaInfo): boolean => {
    if (info.end <= info.start || info.start < previousEnd) {
      warn({
        code: 'list-corrupt',
        message: `VMA ${hex(info.vma)} of mm ${hex(mm)} has range ${hex(info.start)}-${hex(info.end)} out of order`,
        address: info.vma,
      });
      return false;
    }
    previousEnd = info.end;
    return true;
  };
  if (layout.mmTree !== undefined) {
    let root: bigint;
    try {
      const bytes = profile.kernel.read(mm + BigInt(layout.mmTree), 8);
      root = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    } catch (error) {
      warn({
        code: 'unreadable-memory',
        message: `Cannot read the VMA tree root of mm ${hex(mm)}: ${(error as Error).message}`,
        address: mm,
      });
      return;
    }
    for (const { first, last, entry } of walkMapleTree(profile.kernel, layout.maple, root, {
      warn,
      what,
      maxNodes: maxVmas,
    })) {
      if (count >= maxVmas) {
        warn({ code: 'limit-reached', message: `The ${what} holds more than ${maxVmas} VMAs` });
        return;
      }
      count += 1;
      if ((entry & 7n) !== 0n) {
        // Not a vm_area_struct pointer: an xarray value or internal entry (include/linux/xarray.h).
        warn({
          code: 'list-corrupt',
          message: `The ${what} holds ${hex(entry)} at ${hex(first)}, not a VMA`,
          address: entry,
        });
        continue;
      }
      const info = readVma(profile, layout, entry, warn)?.info;
      if (info === undefined) continue;
      if (info.start !== first || info.end - 1n !== last) {
        warn({
          code: 'list-corrupt',
          message: `VMA ${hex(entry)} covers ${hex(info.start)}-${hex(info.end)} but sits in the ${what} at ${hex(first)}-${hex(last + 1n)}`,
          address: entry,
        });
        continue;
      }
      if (accept(info)) yield info;
    }
    return;
  }
  if (layout.mmList === undefined) {
    warn({ code: 'unreadable-memory', message: 'The symbol table has neither mm_mt nor mmap' });
    return;
  }
  // Before 6.1: a NULL-terminated list in address order (include/linux/mm_types.h vm_next).
  const seen = new Set<bigint>();
  let vma: bigint;
  try {
    const bytes = profile.kernel.read(mm + BigInt(layout.mmList.mmap), 8);
    vma = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  } catch {
    warn({ code: 'unreadable-memory', message: `Cannot read mm ${hex(mm)}->mmap`, address: mm });
    return;
  }
  while (vma !== 0n) {
    if (seen.has(vma)) {
      warn({ code: 'list-loop', message: `The VMA list of mm ${hex(mm)} loops at ${hex(vma)}` });
      return;
    }
    if (seen.size >= maxVmas) {
      warn({ code: 'limit-reached', message: `The VMA list of mm ${hex(mm)} holds > ${maxVmas}` });
      return;
    }
    seen.add(vma);
    const read = readVma(profile, layout, vma, warn);
    if (read === undefined) return;
    if (accept(read.info)) yield read.info;
    vma = read.next;
  }
}
