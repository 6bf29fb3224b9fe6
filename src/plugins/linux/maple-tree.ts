import { hex } from '../../core/index.js';
import type { SymbolTable, IntrospectionWarning } from '../../symbols/index.js';
import type { ListMemory } from './list-walker.js';

/** One stored range of a maple tree: entry covers indices first..last (inclusive). */
export interface MapleEntry {
  readonly first: bigint;
  readonly last: bigint;
  readonly entry: bigint;
}

export interface MapleWalkOptions {
  readonly warn: (warning: IntrospectionWarning) => void;
  /** Nodes visited at most. Default 200,000 (vm.max_map_count 65,530 VMAs need about 10,000). */
  readonly maxNodes?: number;
  /** What the tree is, for messages ("maple tree of mm 0x…"). */
  readonly what: string;
}

/** Node layout per maple_type (include/linux/maple_tree.h, 64-bit). */
interface NodeShape {
  readonly pivots: number;
  readonly slots: number;
  readonly pivotOffset: number;
  readonly slotOffset: number;
  /** struct maple_metadata (end, gap), or -1 when the type has none. */
  readonly metaOffset: number;
  readonly leaf: boolean;
}

export interface MapleLayout {
  /** Indexed by enum maple_type: maple_dense, maple_leaf_64, maple_range_64, maple_arange_64. */
  readonly shapes: readonly NodeShape[];
}

/** sizeof(struct maple_node) on 64-bit: 256 bytes (MAPLE_NODE_SLOTS 31 + parent). */
const NODE_SIZE = 256;
/** MAPLE_NODE_MASK: the low byte of an encoded node pointer holds type bits. */
const MAPLE_NODE_MASK = 0xffn;
/** MAPLE_NODE_TYPE_SHIFT / MAPLE_NODE_TYPE_MASK. */
const TYPE_SHIFT = 3n;
const TYPE_MASK = 0x0fn;
const MAPLE_ARANGE_64 = 3;
/** MAPLE_HEIGHT_MAX. */
const MAX_HEIGHT = 31;
const ULONG_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * Offsets of the node members from the symbol table when it has the maple types, else the 64-bit
 * layout of Linux 6.1 (include/linux/maple_tree.h: maple_range_64 = parent, pivot[15], slot[16]
 * whose last slot doubles as the metadata; maple_arange_64 = parent, pivot[9], slot[10], gap[10],
 * meta).
 */
export function mapleLayout(symbols: SymbolTable): MapleLayout {
  const at = (type: string, member: string, fallback: number): number =>
    symbols.member(type, member)?.offset ?? fallback;
  const range = {
    pivots: 15,
    slots: 16,
    pivotOffset: at('maple_range_64', 'pivot', 8),
    slotOffset: at('maple_range_64', 'slot', 128),
    metaOffset: at('maple_range_64', 'meta', 248),
  };
  return {
    shapes: [
      // maple_dense: 31 slots, one index each, no pivots.
      { pivots: 0, slots: 31, pivotOffset: 8, slotOffset: 8, metaOffset: -1, leaf: true },
      { ...range, leaf: true },
      { ...range, leaf: false },
      {
        pivots: 9,
        slots: 10,
        pivotOffset: at('maple_arange_64', 'pivot', 8),
        slotOffset: at('maple_arange_64', 'slot', 80),
        metaOffset: at('maple_arange_64', 'meta', 240),
        leaf: false,
      },
    ],
  };
}

/** xa_is_node(): ma_root is mte_mk_root(node), an internal entry ((entry & 3) == 2) above 4096. */
function isNode(entry: bigint): boolean {
  return (entry & 3n) === 2n && entry > 4096n;
}

/**
 * Yields the non-empty ranges of a maple tree (lib/maple_tree.c) in index order, given its
 * `ma_root`. Each node is read once (256 bytes); a slot's range runs from the previous pivot + 1 to
 * its own pivot, the last slot's to the node's max (mas_safe_pivot()), and the number of slots in
 * use comes from ma_data_end(): the metadata `end` for arange_64 nodes and for range_64 nodes whose
 * last pivot is 0. Guest memory is hostile: a node seen twice (a loop), a tree deeper than
 * MAPLE_HEIGHT_MAX, more than `maxNodes` nodes, pivots that go backwards or leave the node's range,
 * an unknown node type or an unreadable node skip that subtree with a warning.
 */
export function* walkMapleTree(
  space: ListMemory,
  layout: MapleLayout,
  root: bigint,
  options: MapleWalkOptions,
): Generator<MapleEntry> {
  const maxNodes = options.maxNodes ?? 200_000;
  const seen = new Set<bigint>();
  const warn = options.warn;
  if (root === 0n) return;
  if (!isNode(root)) {
    // A tree holding only index 0 stores its entry in ma_root itself (mas_root_expand()).
    yield { first: 0n, last: 0n, entry: root };
    return;
  }
  let limited = false;
  function* visit(enode: bigint, min: bigint, max: bigint, depth: number): Generator<MapleEntry> {
    const node = enode & ~MAPLE_NODE_MASK;
    const type = Number((enode >> TYPE_SHIFT) & TYPE_MASK);
    const shape = layout.shapes[type];
    if (shape === undefined) {
      warn({
        code: 'list-corrupt',
        message: `The ${options.what} has a node ${hex(node)} of unknown type ${type}`,
        address: node,
      });
      return;
    }
    if (depth > MAX_HEIGHT) {
      warn({
        code: 'list-loop',
        message: `The ${options.what} is deeper than ${MAX_HEIGHT} levels at node ${hex(node)}`,
        address: node,
      });
      return;
    }
    if (seen.has(node)) {
      warn({
        code: 'list-loop',
        message: `The ${options.what} reaches node ${hex(node)} twice`,
        address: node,
      });
      return;
    }
    if (seen.size >= maxNodes) {
      if (!limited) {
        warn({
          code: 'limit-reached',
          message: `The ${options.what} has more than ${maxNodes} nodes: the rest is skipped`,
        });
      }
      limited = true;
      return;
    }
    seen.add(node);
    let bytes: DataView;
    try {
      const raw = space.read(node, NODE_SIZE);
      bytes = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (error) {
      warn({
        code: 'unreadable-memory',
        message: `Cannot read ${options.what} node ${hex(node)}: ${(error as Error).message}`,
        address: node,
      });
      return;
    }
    const pivot = (i: number): bigint => bytes.getBigUint64(shape.pivotOffset + 8 * i, true);
    const slot = (i: number): bigint => bytes.getBigUint64(shape.slotOffset + 8 * i, true);
    if (shape.pivots === 0) {
      // maple_dense: slot i holds index min + i.
      for (let i = 0; i < shape.slots && min + BigInt(i) <= max; i += 1) {
        const entry = slot(i);
        if (entry !== 0n) yield { first: min + BigInt(i), last: min + BigInt(i), entry };
      }
      return;
    }
    // ma_data_end(): the metadata's `end` unless the last pivot is set.
    let end: number;
    const lastPivot = pivot(shape.pivots - 1);
    if (type === MAPLE_ARANGE_64 || lastPivot === 0n) end = bytes.getUint8(shape.metaOffset);
    else end = lastPivot === max ? shape.pivots - 1 : shape.pivots;
    if (end >= shape.slots) {
      warn({
        code: 'bad-length',
        message: `The ${options.what} node ${hex(node)} claims ${end + 1} slots of ${shape.slots}`,
        address: node,
      });
      end = shape.slots - 1;
    }
    let first = min;
    for (let i = 0; i <= end; i += 1) {
      const last = i < shape.pivots ? pivot(i) : max;
      if (last < first || last > max) {
        warn({
          code: 'list-corrupt',
          message: `The ${options.what} node ${hex(node)} has pivot ${i} = ${hex(last)} outside ${hex(first)}..${hex(max)}`,
          address: node,
        });
        return;
      }
      const entry = slot(i);
      if (entry !== 0n) {
        // Children are stored as mt_mk_node(): node | type << 3 | MAPLE_ENODE_NULL (bit 2).
        if (shape.leaf) yield { first, last, entry };
        else yield* visit(entry, first, last, depth + 1);
      }
      if (last === max) return;
      first = last + 1n;
    }
  }
  yield* visit(root, 0n, ULONG_MAX, 1);
}
