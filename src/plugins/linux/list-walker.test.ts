import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { walkList, type ListMemory } from './list-walker.js';

/** A fake kernel memory of list_head nodes: address → [next, prev]. */
function nodes(links: ReadonlyMap<bigint, readonly [bigint, bigint]>): ListMemory {
  return {
    read(address: bigint, length: number): Uint8Array {
      for (const [node, [next, prev]] of links) {
        if (address === node || address === node + 8n) {
          const out = Buffer.alloc(length);
          out.writeBigUInt64LE(address === node ? next : prev);
          return out;
        }
      }
      throw new RangeError(`unmapped ${address.toString(16)}`);
    },
  };
}

function ring(addresses: readonly bigint[]): Map<bigint, [bigint, bigint]> {
  const map = new Map<bigint, [bigint, bigint]>();
  addresses.forEach((address, i) => {
    const next = addresses[(i + 1) % addresses.length] ?? 0n;
    const prev = addresses[(i - 1 + addresses.length) % addresses.length] ?? 0n;
    map.set(address, [next, prev]);
  });
  return map;
}

function walk(memory: ListMemory, head: bigint, maxEntries?: number) {
  const warnings: IntrospectionWarning[] = [];
  const found = [
    ...walkList(memory, head, {
      what: 'task list',
      warn: (w) => warnings.push(w),
      ...(maxEntries === undefined ? {} : { maxEntries }),
    }),
  ];
  return { found, codes: warnings.map((w) => w.code) };
}

void describe('walkList', () => {
  void it('yields every node of an intact ring once, without warnings', () => {
    const { found, codes } = walk(nodes(ring([0x1000n, 0x2000n, 0x3000n, 0x4000n])), 0x1000n);
    assert.deepEqual(found, [0x2000n, 0x3000n, 0x4000n]);
    assert.deepEqual(codes, []);
  });

  void it('stops at a loop that skips the head, then recovers the rest backwards', () => {
    const links = ring([0x1000n, 0x2000n, 0x3000n, 0x4000n, 0x5000n]);
    links.set(0x3000n, [0x2000n, 0x2000n]); // 0x3000 -> 0x2000: a loop
    const { found, codes } = walk(nodes(links), 0x1000n);
    assert.deepEqual(found, [0x2000n, 0x3000n, 0x5000n, 0x4000n]);
    assert.ok(codes.includes('list-loop'));
  });

  void it('stops at an unmapped next pointer with a warning and recovers backwards', () => {
    const links = ring([0x1000n, 0x2000n, 0x3000n, 0x4000n]);
    links.set(0x2000n, [0xdead0000n, 0x1000n]);
    const { found, codes } = walk(nodes(links), 0x1000n);
    assert.deepEqual(found, [0x2000n, 0x4000n, 0x3000n]);
    assert.ok(codes.includes('unreadable-memory'));
  });

  void it('bounds a self-referencing or endless list by maxEntries', () => {
    const { found, codes } = walk(
      nodes(ring(Array.from({ length: 100 }, (_, i) => BigInt(i + 1) * 0x100n))),
      0x100n,
      10,
    );
    assert.ok(found.length <= 11);
    assert.deepEqual(codes, ['limit-reached']);
    const self = new Map<bigint, [bigint, bigint]>([
      [0x1000n, [0x2000n, 0x2000n]],
      [0x2000n, [0x2000n, 0x2000n]],
    ]);
    const looped = walk(nodes(self), 0x1000n);
    assert.deepEqual(looped.found, [0x2000n]);
    assert.ok(looped.codes.includes('list-loop'));
  });
});
