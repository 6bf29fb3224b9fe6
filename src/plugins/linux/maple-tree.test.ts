import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntrospectionWarning } from '../../symbols/index.js';
import {
  SparseMemory,
  ULONG_MAX,
  enode,
  syntheticSymbols,
  writeMapleNode as node,
} from './internal-test/synthetic-kernel.js';
import { mapleLayout, walkMapleTree } from './maple-tree.js';

const BASE = 0xffff_8880_0100_0000n;
const layout = mapleLayout(syntheticSymbols());

function walk(memory: SparseMemory, root: bigint, maxNodes?: number) {
  const warnings: IntrospectionWarning[] = [];
  const entries = [
    ...walkMapleTree(memory, layout, root, {
      what: 'test tree',
      warn: (w) => warnings.push(w),
      ...(maxNodes === undefined ? {} : { maxNodes }),
    }),
  ];
  return { entries, warnings: warnings.map((w) => w.code) };
}

void describe('walkMapleTree', () => {
  void it('walks two levels in index order', () => {
    const memory = new SparseMemory();
    node(memory, BASE, [
      [0xffffn, enode(BASE + 0x100n, 1)],
      [ULONG_MAX, enode(BASE + 0x200n, 1)],
    ]);
    node(memory, BASE + 0x100n, [
      [0xfffn, 0n],
      [0xffffn, 0xa000n],
    ]);
    node(memory, BASE + 0x200n, [
      [0x1ffffn, 0xb000n],
      [ULONG_MAX, 0n],
    ]);
    assert.deepEqual(walk(memory, enode(BASE, 2) | 2n), {
      entries: [
        { first: 0x1000n, last: 0xffffn, entry: 0xa000n },
        { first: 0x10000n, last: 0x1ffffn, entry: 0xb000n },
      ],
      warnings: [],
    });
  });

  void it('bounds a chain of distinct nodes deeper than MAPLE_HEIGHT_MAX', () => {
    const memory = new SparseMemory();
    for (let i = 0n; i < 40n; i += 1n) {
      node(memory, BASE + i * 0x100n, [[ULONG_MAX, enode(BASE + (i + 1n) * 0x100n, 2)]]);
    }
    assert.deepEqual(walk(memory, enode(BASE, 2) | 2n), { entries: [], warnings: ['list-loop'] });
  });

  void it('stops at maxNodes', () => {
    const memory = new SparseMemory();
    const children = Array.from({ length: 16 }, (_, i): [bigint, bigint] => [
      i === 15 ? ULONG_MAX : BigInt(i * 0x1000 + 0xfff),
      enode(BASE + BigInt(i + 1) * 0x100n, 1),
    ]);
    node(memory, BASE, children);
    for (let i = 1; i <= 16; i += 1) {
      const last = i === 16 ? ULONG_MAX : BigInt((i - 1) * 0x1000 + 0xfff);
      node(memory, BASE + BigInt(i) * 0x100n, [[last, BigInt(i) * 0x10000n]]);
    }
    const { entries, warnings } = walk(memory, enode(BASE, 2) | 2n, 5);
    assert.equal(entries.length, 4);
    assert.deepEqual(warnings, ['limit-reached']);
  });

  void it('rejects pivots that go backwards, an unknown node type and an unreadable node', () => {
    const memory = new SparseMemory();
    node(memory, BASE, [
      [0x2000n, 0xa000n],
      [0x1000n, 0xb000n],
      [ULONG_MAX, 0xc000n],
    ]);
    assert.deepEqual(walk(memory, enode(BASE, 1) | 2n), {
      entries: [{ first: 0n, last: 0x2000n, entry: 0xa000n }],
      warnings: ['list-corrupt'],
    });
    assert.deepEqual(walk(memory, enode(BASE, 9) | 2n), {
      entries: [],
      warnings: ['list-corrupt'],
    });
    assert.deepEqual(walk(memory, enode(BASE + 0x10_0000n, 1) | 2n), {
      entries: [],
      warnings: ['unreadable-memory'],
    });
  });

  void it('caps a metadata end past the slots', () => {
    const memory = new SparseMemory();
    node(memory, BASE, [[ULONG_MAX, 0xa000n]]);
    memory.write(BASE + 248n, Uint8Array.of(200));
    const { entries, warnings } = walk(memory, enode(BASE, 1) | 2n);
    assert.deepEqual(entries, [{ first: 0n, last: ULONG_MAX, entry: 0xa000n }]);
    assert.deepEqual(warnings, ['bad-length']);
  });
});
