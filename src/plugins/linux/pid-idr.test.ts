import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelProfile } from '../../profiles/index.js';
import { SymbolTable, type IntrospectionWarning, type IsfDocument } from '../../symbols/index.js';
import { pidIdrEntries } from './pid-idr.js';

const field = (offset: number) => ({ type: { kind: 'base' as const, name: 'long' }, offset });
const ISF: IsfDocument = {
  metadata: { format: '6.2.0', producer: { name: 'test', version: '0' } },
  base_types: {},
  enums: {},
  user_types: {
    pid_namespace: { kind: 'struct', size: 8, fields: { idr: field(0) } },
    idr: { kind: 'struct', size: 8, fields: { idr_rt: field(0) } },
    xarray: { kind: 'struct', size: 16, fields: { xa_head: field(8) } },
    xa_node: { kind: 'struct', size: 576, fields: { shift: field(0), slots: field(40) } },
  },
  symbols: { init_pid_ns: { address: 0xffffffff82000000n } },
};
const NS = 0xffffffff82000000n;

/** Fake kernel memory: 8-byte words and xa_nodes at chosen addresses. */
function profile(
  words: ReadonlyMap<bigint, bigint>,
  nodes: ReadonlyMap<bigint, { shift: number; slots: bigint[] }>,
) {
  const kernel = {
    read(address: bigint, length: number): Uint8Array {
      const out = Buffer.alloc(length);
      const word = words.get(address);
      if (word !== undefined) {
        out.writeBigUInt64LE(word);
        return out;
      }
      for (const [base, node] of nodes) {
        if (address === base) {
          out[0] = node.shift;
          return out;
        }
        if (address === base + 40n) {
          node.slots.forEach((slot, i) => out.writeBigUInt64LE(slot, i * 8));
          return out;
        }
      }
      throw new RangeError(`unmapped ${address.toString(16)}`);
    },
  };
  return { kernel, symbols: new SymbolTable(ISF) } as unknown as KernelProfile;
}

function entries(p: KernelProfile, maxNodes?: number) {
  const warnings: IntrospectionWarning[] = [];
  const found = [
    ...pidIdrEntries(p, {
      warn: (w) => warnings.push(w),
      ...(maxNodes === undefined ? {} : { maxNodes }),
    }),
  ];
  return { found, codes: warnings.map((w) => w.code) };
}

void describe('pidIdrEntries', () => {
  void it('walks a two-level xarray and skips value entries', () => {
    const leaf = { shift: 0, slots: [0xffff888000001000n, 0n, 0xffff888000002000n, 0x11n] };
    const root = { shift: 6, slots: [0xffff888000100002n] };
    const p = profile(
      new Map([[NS + 8n, 0xffff888000200002n]]),
      new Map([
        [0xffff888000200000n, root],
        [0xffff888000100000n, leaf],
      ]),
    );
    assert.deepEqual(entries(p), { found: [0xffff888000001000n, 0xffff888000002000n], codes: [] });
  });

  void it('stops at a node that points back at itself and at a shift that does not shrink', () => {
    const loop = { shift: 6, slots: [0xffff888000200002n] };
    const p = profile(
      new Map([[NS + 8n, 0xffff888000200002n]]),
      new Map([[0xffff888000200000n, loop]]),
    );
    const result = entries(p);
    assert.deepEqual(result.found, []);
    assert.ok(result.codes.includes('list-corrupt') || result.codes.includes('list-loop'));
  });

  void it('warns on unreadable nodes and bounds the nodes visited', () => {
    const wide = {
      shift: 6,
      slots: Array.from({ length: 64 }, (_, i) => 0xffff888010000002n + BigInt(i) * 0x1000n),
    };
    const p = profile(
      new Map([[NS + 8n, 0xffff888000200002n]]),
      new Map([[0xffff888000200000n, wide]]),
    );
    assert.ok(entries(p).codes.every((c) => c === 'unreadable-memory'));
    assert.ok(entries(p, 3).codes.includes('limit-reached'));
  });
});
