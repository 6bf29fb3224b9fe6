import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVmsightError } from '../core/index.js';
import { decodeKallsyms, type KallsymsTableAddresses } from './kallsyms-decoder.js';

const TABLES: KallsymsTableAddresses = {
  names: 0xffffffff82000000n,
  numSyms: 0xffffffff82100000n,
  tokenTable: 0xffffffff82200000n,
  tokenIndex: 0xffffffff82300000n,
  offsets: 0xffffffff82400000n,
  relativeBase: 0xffffffff82500000n,
};

/**
 * Lays out kallsyms tables like scripts/kallsyms.c does: token i is the single character i except
 * token 0x80, which is "_task" (a multi-character token).
 */
function memory(
  names: readonly (readonly number[])[],
  offsets: readonly number[],
  count = names.length,
) {
  const regions = new Map<bigint, Buffer>();
  const tokens: Buffer[] = [];
  const index = Buffer.alloc(512);
  let at = 0;
  for (let token = 0; token < 256; token += 1) {
    const text =
      token === 0x80 ? Buffer.from('_task\0') : Buffer.from([token === 0 ? 0x3f : token, 0]);
    index.writeUInt16LE(at, token * 2);
    tokens.push(text);
    at += text.length;
  }
  regions.set(TABLES.tokenTable, Buffer.concat(tokens));
  regions.set(TABLES.tokenIndex, index);
  const encoded: number[] = [];
  for (const name of names) {
    if (name.length > 0x7f) encoded.push((name.length & 0x7f) | 0x80, name.length >> 7);
    else encoded.push(name.length);
    encoded.push(...name);
  }
  regions.set(TABLES.names, Buffer.from(encoded));
  const off = Buffer.alloc(offsets.length * 4);
  offsets.forEach((value, i) => off.writeInt32LE(value, i * 4));
  regions.set(TABLES.offsets, off);
  const count32 = Buffer.alloc(4);
  count32.writeUInt32LE(count);
  regions.set(TABLES.numSyms, count32);
  const base = Buffer.alloc(8);
  base.writeBigUInt64LE(0xffffffff81000000n);
  regions.set(TABLES.relativeBase, base);
  return (address: bigint, length: number): Uint8Array => {
    for (const [start, bytes] of regions) {
      if (address >= start && address < start + BigInt(bytes.length)) {
        const from = Number(address - start);
        if (from + length > bytes.length + 65536) throw new RangeError('unmapped');
        const out = new Uint8Array(length);
        out.set(bytes.subarray(from, from + length));
        return out;
      }
    }
    throw new RangeError(`unmapped ${address.toString(16)}`);
  };
}

const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];

void describe('decodeKallsyms', () => {
  void it('expands tokens, reads the type letter and applies absolute per-cpu offsets', () => {
    const read = memory(
      [[...ascii('Dinit'), 0x80], ascii('Tstartup_64'), ascii('Acurrent_task')],
      [-0x1a1aa41, -1, 0x1fb80],
    );
    assert.deepEqual(decodeKallsyms(read, TABLES), [
      { name: 'init_task', type: 'D', address: 0xffffffff82a1aa40n },
      { name: 'startup_64', type: 'T', address: 0xffffffff81000000n },
      { name: 'current_task', type: 'A', address: 0x1fb80n },
    ]);
  });

  void it('reads the 6.1 two-byte length of a symbol longer than 127 tokens', () => {
    const long = `t${'x'.repeat(200)}`;
    const symbols = decodeKallsyms(memory([ascii(long), ascii('Tnext')], [-1, -2]), TABLES);
    assert.equal(symbols[0]?.name, 'x'.repeat(200));
    assert.equal(symbols[1]?.name, 'next');
    assert.equal(symbols[1]?.address, 0xffffffff81000001n);
  });

  void it('bounds kallsyms_num_syms and name lengths read from guest memory', () => {
    assert.throws(
      () => decodeKallsyms(memory([ascii('Ta')], [0], 0xffffffff), TABLES),
      (error) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
    assert.throws(
      () =>
        decodeKallsyms(memory([ascii(`T${'y'.repeat(300)}`)], [0]), TABLES, { maxNameLength: 100 }),
      (error) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
  });

  void it('fails with a typed error at unmapped memory instead of looping', () => {
    // num_syms says 3 but the offsets table holds one entry and ends at unmapped memory.
    assert.throws(
      () => decodeKallsyms(memory([ascii('Ta')], [0], 100_000), TABLES),
      (error) => isVmsightError(error, 'INVALID_INPUT'),
    );
  });
});
