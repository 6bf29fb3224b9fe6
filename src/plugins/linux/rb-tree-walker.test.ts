import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { walkRbTree } from './rb-tree-walker.js';

/** Fake memory of rb_nodes: address → [right, left] at offsets 8 and 16, as on x86-64. */
function memory(nodes: ReadonlyMap<bigint, readonly [bigint, bigint]>) {
  return {
    read(address: bigint, length: number): Uint8Array {
      const node = nodes.get(address);
      if (node === undefined) throw new RangeError(`unmapped ${address.toString(16)}`);
      const out = Buffer.alloc(length);
      out.writeBigUInt64LE(node[0], 8);
      out.writeBigUInt64LE(node[1], 16);
      return out;
    },
  };
}

function walk(nodes: ReadonlyMap<bigint, readonly [bigint, bigint]>, root: bigint, budget = 1000) {
  const warnings: IntrospectionWarning[] = [];
  const found = [
    ...walkRbTree(memory(nodes), root, {
      budget: { remaining: budget },
      warn: (w) => warnings.push(w),
      what: 'test tree',
      rightOffset: 8,
      leftOffset: 16,
    }),
  ];
  return { found, codes: warnings.map((w) => w.code) };
}

void describe('walkRbTree', () => {
  void it('yields the nodes in order', () => {
    // 0x20 is the root, 0x10 its left child, 0x30 its right child.
    const nodes = new Map<bigint, [bigint, bigint]>([
      [0x20n, [0x30n, 0x10n]],
      [0x10n, [0n, 0n]],
      [0x30n, [0n, 0n]],
    ]);
    assert.deepEqual(walk(nodes, 0x20n), { found: [0x10n, 0x20n, 0x30n], codes: [] });
    assert.deepEqual(walk(nodes, 0n), { found: [], codes: [] });
  });

  void it('cuts a loop and an unmapped child with warnings', () => {
    const nodes = new Map<bigint, [bigint, bigint]>([
      [0x20n, [0xdead000n, 0x10n]],
      [0x10n, [0x20n, 0x10n]], // left is itself, right goes back to the root
    ]);
    const result = walk(nodes, 0x20n);
    assert.deepEqual(result.found, [0x10n, 0x20n]);
    assert.deepEqual(result.codes, ['list-loop', 'list-loop', 'unreadable-memory']);
  });

  void it('bounds a long chain by the budget, without recursion', () => {
    const nodes = new Map<bigint, [bigint, bigint]>();
    for (let i = 1n; i <= 200_000n; i += 1n) nodes.set(i * 32n, [0n, (i + 1n) * 32n]);
    const result = walk(nodes, 32n, 150_000);
    assert.equal(result.found.length, 150_000);
    assert.deepEqual(result.codes, ['limit-reached']);
  });
});
