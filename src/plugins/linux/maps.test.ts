import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntrospectionWarning } from '../../symbols/index.js';
import {
  INIT_TASK,
  SparseMemory,
  ULONG_MAX,
  enode,
  syntheticProfile,
  syntheticSymbols,
  writeRootFs,
  writeMapleNode,
  writeTasks,
} from './internal-test/synthetic-kernel.js';
import { mapsPlugin } from './maps.js';

const MM = INIT_TASK + 0x20000n;
const VMA_TEXT = MM + 0x1000n;
const VMA_HEAP = MM + 0x1100n;
const VMA_STACK = MM + 0x1200n;
const LEAF = MM + 0x2000n;
const INNER = MM + 0x3000n;

/** A process with three VMAs: busybox text, the heap and the stack. */
function guest(options: { vmaList?: boolean } = {}) {
  const memory = new SparseMemory();
  const fs = writeRootFs(memory);
  writeTasks(memory, { pid: 7, comm: 'busybox', mm: MM, files: 0n, fs: fs.fsStruct });
  memory
    .u64(MM + 24n, 0x60_1000n) // start_brk
    .u64(MM + 32n, 0x62_2000n) // brk
    .u64(MM + 40n, 0x7ffc_0000_1000n); // start_stack
  const vma = (at: bigint, start: bigint, end: bigint, flags: bigint, file: bigint): void => {
    memory
      .u64(at, start)
      .u64(at + 8n, end)
      .u64(at + 16n, flags)
      .u64(at + 32n, file);
  };
  vma(VMA_TEXT, 0x40_0000n, 0x40_1000n, 0x5n, fs.file); // r-x, private
  memory.u64(VMA_TEXT + 24n, 3n); // vm_pgoff: 3 pages
  vma(VMA_HEAP, 0x60_1000n, 0x62_2000n, 0x3n, 0n);
  vma(VMA_STACK, 0x7ffb_ffff_0000n, 0x7ffc_0000_2000n, 0x83n, 0n); // rw-s
  if (options.vmaList === true) {
    memory
      .u64(MM + 48n, VMA_TEXT)
      .u64(VMA_TEXT + 56n, VMA_HEAP)
      .u64(VMA_HEAP + 56n, VMA_STACK);
  } else {
    // One maple_leaf_64 (type 1) root: gaps are NULL slots; pivot[14] == 0, so metadata gives the end.
    writeMapleNode(memory, LEAF, [
      [0x3f_ffffn, 0n],
      [0x40_0fffn, VMA_TEXT],
      [0x60_0fffn, 0n],
      [0x62_1fffn, VMA_HEAP],
      [0x7ffb_fffe_ffffn, 0n],
      [0x7ffc_0000_1fffn, VMA_STACK],
      [ULONG_MAX, 0n],
    ]);
    memory.u64(MM + 48n + 8n, enode(LEAF, 1) | 2n);
  }
  return { memory, fs, symbols: syntheticSymbols(options) };
}

function maps(g: ReturnType<typeof guest>) {
  const warnings: IntrospectionWarning[] = [];
  const rows = [
    ...mapsPlugin.run(
      { profile: syntheticProfile(g.memory, g.symbols), warn: (w) => warnings.push(w) },
      {},
    ),
  ].map(({ start, end, flags, pgoff, major, minor, inode, path }) => ({
    range: `${start.toString(16)}-${end.toString(16)}`,
    flags,
    pgoff,
    dev: `${major}:${minor}`,
    inode,
    path,
  }));
  return { rows, warnings };
}

const EXPECTED = [
  {
    range: '400000-401000',
    flags: 'r-xp',
    pgoff: 0x3000n,
    dev: '0:2',
    inode: 42n,
    path: '/bin/busybox',
  },
  { range: '601000-622000', flags: 'rw-p', pgoff: 0n, dev: '0:0', inode: 0n, path: '[heap]' },
  {
    range: '7ffbffff0000-7ffc00002000',
    flags: 'rw-s',
    pgoff: 0n,
    dev: '0:0',
    inode: 0n,
    path: '[stack]',
  },
];

void describe('maps on a made-up kernel', () => {
  void it('reads the 6.1+ maple tree', () => {
    assert.deepEqual(maps(guest()), { rows: EXPECTED, warnings: [] });
  });

  void it('reads the VMA list of kernels before 6.1 (mm->mmap, vm_next)', () => {
    assert.deepEqual(maps(guest({ vmaList: true })), { rows: EXPECTED, warnings: [] });
  });

  void it('stops a VMA list that loops, keeping what came before', () => {
    const g = guest({ vmaList: true });
    g.memory.u64(VMA_STACK + 56n, VMA_TEXT);
    const { rows, warnings } = maps(g);
    assert.deepEqual(rows, EXPECTED);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['list-loop'],
    );
  });

  void it('stops a maple tree whose node points back to itself, keeping the other subtree', () => {
    const g = guest();
    // A maple_range_64 (type 2) root: slot 0 is the leaf (up to 0x7ffc00001fff), slot 1 is itself.
    writeMapleNode(g.memory, INNER, [
      [0x7ffc_0000_1fffn, enode(LEAF, 1)],
      [ULONG_MAX, enode(INNER, 2)],
    ]);
    // The leaf now ends at its parent's pivot.
    g.memory.u64(LEAF + 8n + 6n * 8n, 0n).u64(LEAF + 128n + 6n * 8n, 0n);
    g.memory.write(LEAF + 248n, Uint8Array.of(5));
    g.memory.u64(MM + 56n, enode(INNER, 2) | 2n);
    const { rows, warnings } = maps(g);
    assert.deepEqual(rows, EXPECTED);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['list-loop'],
    );
    assert.match(warnings[0]?.message ?? '', /reaches node .* twice/);
  });

  void it('keeps a region whose vm_file is unmapped, without a path, and warns', () => {
    const g = guest();
    g.memory.u64(VMA_TEXT + 32n, 0xffff_8880_7777_0000n);
    const { rows, warnings } = maps(g);
    assert.deepEqual(rows, [
      { ...EXPECTED[0], dev: '0:0', inode: 0n, path: undefined },
      ...EXPECTED.slice(1),
    ]);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.address]),
      [['unreadable-memory', 0xffff_8880_7777_0000n]],
    );
  });

  void it('skips a VMA whose range disagrees with its tree slot', () => {
    const g = guest();
    g.memory.u64(VMA_HEAP, 0x50_0000n);
    const { rows, warnings } = maps(g);
    assert.deepEqual(rows, [EXPECTED[0], EXPECTED[2]]);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['list-corrupt'],
    );
  });
});
